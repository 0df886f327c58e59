"""Hostile input through the real command line: every case is a real file (or path) in a fresh
folder beside `seed.py`, a file with one known finding.

Each case checks the documented contract: a located diagnostic (or a clean analysis), exit code 2
when a file could not be analysed (LL000-LL003) and 1 for findings only, no traceback on stderr,
and the seed's finding still reported, so one bad file never hides the others' findings.
"""

from __future__ import annotations

import ast
import os
import stat
import time
from pathlib import Path

import pytest

from analyzer import discovery
from analyzer.discovery import MAX_FILE_BYTES, read_source
from analyzer.frontends import cli
from tests.reliability.cli_helpers import SEED, lint, lint_subprocess


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the seed file; `.git` marks it as the project root (the cache stays here)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "seed.py").write_text(SEED, encoding="utf-8")
    return tmp_path


def python_error(src: str | bytes) -> tuple[int, int]:
    """(line, column) where Python itself reports the syntax error."""
    try:
        compile(src, "x.py", "exec")
    except SyntaxError as exc:
        return exc.lineno, exc.offset
    raise AssertionError("expected a syntax error")


# ------------------------------------------------------------------------------- syntax errors

SYNTAX_ERRORS = {
    "first_char": (")\n", 1, 1, "unmatched ')'"),
    "mid_file": ("x = 1\n\n\nz = 1 +* 2\n", 4, 8, "invalid syntax"),
    "unclosed_paren_at_eof": ("x = 1\ny = (\n", 2, 5, "'(' was never closed"),
    "last_line_no_newline": ("x = 1\ny = 2 +", 2, 8, "invalid syntax"),
    "unterminated_string": ("a = 1\nb = 'abc\n", 2, 5, "unterminated string literal"),
    "unterminated_triple_quote": ('a = 1\nb = """abc\n\nc = 2\n', 2, 5, "unterminated triple-quoted string"),
    "unexpected_indent": ("x = 1\n    y = 2\n", 2, 4, "unexpected indent"),  # Python's own column
    "missing_block": ("if x:\npass\n", 2, 1, "expected an indented block"),
    "bad_def": ("def f(:\n    pass\n", 1, 7, "invalid syntax"),
    "non_ascii_before_error": ("s = '\u00e9\u00e9\u00e9'; x = 1 +* 2\n", 1, 19, "invalid syntax"),
    "deep_in_function": ("def f():\n    if x:\n        return (1,\n    y = 2\n", 3, 16, "'(' was never closed"),
}


@pytest.mark.parametrize("src,line,col,msg", SYNTAX_ERRORS.values(), ids=SYNTAX_ERRORS.keys())
def test_syntax_error_is_located(project, capsys, src, line, col, msg):
    (project / "bad.py").write_text(src, encoding="utf-8")
    run = lint(capsys, project)
    found = run.at("bad.py")
    assert len(found) == 1 and found[0][2] == "LL001", found
    assert found[0][:2] == (line, col)
    assert msg in found[0][3]
    # the position is the one Python gives (columns counted in characters, as ours are)
    py_line, py_col = python_error(src)
    assert (py_line, py_col) == (line, col)
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


# ----------------------------------------------------------------------------- bytes and lines

def test_nul_byte_is_located(project, capsys):
    (project / "nul.py").write_bytes(b"x = 1\r\ny = 2\r\nz = 3\x00\r\n")
    run = lint(capsys, project)
    assert [(ln, c, k) for ln, c, k, _ in run.at("nul.py")] == [(3, 6, "LL001")]
    assert "NUL byte" in run.at("nul.py")[0][3]
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_utf8_bom_keeps_positions(project, capsys):
    body = "x = 1\ndef g():\n    return undefined_b\n"
    (project / "plain.py").write_text(body, encoding="utf-8")
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + body.encode())
    (project / "bom_error.py").write_bytes(b"\xef\xbb\xbfy = 1 +* 2\n")
    run = lint(capsys, project)
    assert [f[:3] for f in run.at("bom.py")] == [f[:3] for f in run.at("plain.py")] == [(3, 12, "LL201")]
    assert [f[:3] for f in run.at("bom_error.py")] == [(1, 8, "LL001")]
    run.assert_seed_reported()
    run.assert_no_traceback()


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone_cr"])
def test_line_endings_keep_lines(project, capsys, newline):
    body = "x = 1\n\ndef g():\n    return undefined_n\n"
    (project / "endings.py").write_bytes(body.replace("\n", newline).encode())
    (project / "endings_error.py").write_bytes("a = 1\nb = 2\nc = +*\n".replace("\n", newline).encode())
    run = lint(capsys, project)
    assert [f[:3] for f in run.at("endings.py")] == [(4, 12, "LL201")]
    assert [f[:3] for f in run.at("endings_error.py")] == [(3, 6, "LL001")]
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_form_feeds_are_not_line_breaks(project, capsys):
    # a form feed at the start of a line resets the indentation count (as Python's tokenizer does)
    (project / "ff.py").write_bytes(b"x = 1\n\x0c\ndef g():\n\x0c    return undefined_ff\n")
    run = lint(capsys, project)
    assert [f[:3] for f in run.at("ff.py")] == [(4, 13, "LL201")]
    assert run.code == 1
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_tabs_mixed_with_spaces_are_a_located_syntax_error(project, capsys):
    src = b"if True:\n        x = 1\n\ty = 2\n"
    (project / "tabs.py").write_bytes(src)
    run = lint(capsys, project)
    found = run.at("tabs.py")
    assert [f[:3] for f in found] == [(3, 1, "LL001")]
    assert "inconsistent use of tabs and spaces" in found[0][3]
    with pytest.raises(TabError):
        compile(src, "tabs.py", "exec")
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_syntax_error_column_comes_from_the_decoded_text(project, capsys):
    # CPython, given a file name, re-reads the file to place a syntax error: the raw bytes of a
    # BOM or a latin-1 line would shift the column
    (project / "latin_error.py").write_bytes("# coding: latin-1\ns = '\xe9\xe9'; x = 1 +* 2\n".encode("latin-1"))
    (project / "bom_error.py").write_bytes(b"\xef\xbb\xbf# \xc3\xa9\ns = '\xc3\xa9\xc3\xa9'; x = 1 +* 2\n")
    run = lint(capsys, project)
    assert [f[:3] for f in run.at("latin_error.py")] == [(2, 18, "LL001")]
    assert [f[:3] for f in run.at("bom_error.py")] == [(2, 18, "LL001")]
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_latin1_cookie_decodes_and_counts_characters(project, capsys):
    src = "# -*- coding: latin-1 -*-\ndef g():\n    return 'caf\xe9', undefined_l\n"
    (project / "latin.py").write_bytes(src.encode("latin-1"))
    run = lint(capsys, project)
    # 'café' is one character per letter: the name starts at column 20, not 21 (UTF-8 bytes)
    assert [f[:3] for f in run.at("latin.py")] == [(3, 20, "LL201")]
    assert run.code == 1
    run.assert_seed_reported()
    run.assert_no_traceback()


@pytest.mark.parametrize("raw,line,col", [
    (b"s = 'ok'\nt = 'caf\xe9'\n", 2, 9),
    (b"t = 'caf\xe9'\n", 1, 9),  # on line 1, where Python looks for the encoding declaration
    (b"a = 1\rb = 2\rc = '\xff'\r", 3, 6),  # lines broken by lone CRs
    (b"\xef\xbb\xbfa = 1\nb = '\xff'\n", 2, 6),  # after a BOM
], ids=["line2", "line1", "lone_cr", "bom"])
def test_undeclared_non_utf8_is_located(project, capsys, raw, line, col):
    (project / "undeclared.py").write_bytes(raw)
    run = lint(capsys, project)
    found = run.at("undeclared.py")
    assert [f[:3] for f in found] == [(line, col, "LL002")]
    assert "cannot decode" in found[0][3]
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


@pytest.mark.parametrize("cookie", ["rot13", "hex", "zlib", "base64", "no-such-codec"])
def test_non_text_or_unknown_encoding_cookie(project, capsys, cookie):
    (project / "cookie.py").write_bytes(f"# -*- coding: {cookie} -*-\nx = 1\n".encode())
    run = lint(capsys, project)
    assert run.codes("cookie.py") == ["LL002"]
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_parser_warnings_neither_print_nor_fail_the_file(project):
    # invalid escape sequences warn while parsing (SyntaxWarning from 3.12): the warning is about
    # the linted file, and under `-W error` it must not turn into a syntax error
    (project / "escape.py").write_text("import re\nPAT = re.compile('\\d+')\n", encoding="utf-8")
    for flag in ("-Wdefault", "-Werror"):
        run = lint_subprocess(project, extra=(flag,))
        assert run.at("escape.py") == [], (flag, run.findings)
        assert run.stderr == "", (flag, run.stderr)
        assert run.code == 1
        run.assert_seed_reported()


# ---------------------------------------------------------------------------------- size, depth

def _ten_megabytes() -> str:
    unit = ("def layer_{i}(proj, x, scale={i}):\n"
            "    if proj.merged:\n"
            "        out = x @ proj.weight\n"
            "    else:\n"
            "        out = x @ proj.weight + (x @ proj.lora_A) @ proj.lora_B * scale\n"
            "    return out, proj.bias\n\n\n")
    parts, size, i = [], 0, 0
    while size < 10_000_000:
        part = unit.format(i=i)
        parts.append(part)
        size += len(part)
        i += 1
    parts.append("def last():\n    return undefined_at_the_end\n")
    return "".join(parts)


def test_ten_megabyte_file_is_linted_to_the_end(project, capsys):
    text = _ten_megabytes()
    (project / "big.py").write_text(text, encoding="utf-8")
    last_line = text.count("\n")
    t0 = time.perf_counter()
    run = lint(capsys, project)
    seconds = time.perf_counter() - t0
    print(f"10 MB file ({last_line} lines): {seconds:.1f} s")
    # linted to the end, not skipped. How long it takes is a benchmark's business, not a test's
    # (LibCST's parse alone is ~75 s for these 400,000 lines on a 2-core machine)
    assert [f[:3] for f in run.at("big.py")] == [(last_line, 12, "LL201")]
    assert run.code == 1
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_file_over_the_size_limit_is_skipped_with_a_reason(project, capsys):
    with open(project / "huge.py", "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    run = lint(capsys, project)
    found = run.at("huge.py")
    assert [f[:3] for f in found] == [(1, 1, "LL003")]
    assert "limit" in found[0][3] and "skipped" in found[0][3]
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


DEEP_ILLEGAL = {
    # beyond what CPython's parser accepts: a syntax error, located where the parser stops
    "parentheses_1000": ("x = " + "(" * 1000 + "1" + ")" * 1000 + "\n", "too many nested parentheses"),
    "blocks_1000": ("".join(" " * i + f"if c{i}:\n" for i in range(1000)) + " " * 1000 + "x = 1\n",
                    "too many levels of indentation"),
    "unary_minus_20000": ("x = " + "-" * 20000 + "a\n", "nested"),
}


@pytest.mark.parametrize("src,msg", DEEP_ILLEGAL.values(), ids=DEEP_ILLEGAL.keys())
def test_nesting_beyond_the_parser_is_a_located_syntax_error(project, capsys, src, msg):
    (project / "deep.py").write_text(src, encoding="utf-8")
    run = lint(capsys, project)
    found = run.at("deep.py")
    assert [f[2] for f in found] == ["LL001"] and msg in found[0][3], found
    assert found[0][0] >= 1 and found[0][1] >= 1
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


DEEP_LEGAL_1000 = {
    # legal Python that CPython compiles, 1,000 levels deep in the AST
    "operator_chain": "a = 1\nx = " + " + ".join(["a"] * 1000) + "\n",
    "elif_chain": ("def f(c):\n    x = -1\n    if c == 0:\n        x = 0\n"
                   + "".join(f"    elif c == {i}:\n        x = {i}\n" for i in range(1, 1000)) + "    return x\n"),
    "method_chain": "import os\nx = os" + ".b()" * 500 + "\n",
    "conditional_expression_chain": "c = 1\nx = " + "c if c else " * 1000 + "c\n",
}


@pytest.mark.parametrize("src", DEEP_LEGAL_1000.values(), ids=DEEP_LEGAL_1000.keys())
def test_legal_code_1000_deep_is_analysed_fully(project, capsys, src):
    compile(src, "deep.py", "exec")
    src += "print(undefined_after_the_deep_code)\n"
    (project / "deep.py").write_text(src, encoding="utf-8")
    run = lint(capsys, project)
    assert [f[:3] for f in run.at("deep.py")] == [(src.count("\n"), 7, "LL201")]
    assert run.code == 1
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_code_nested_beyond_the_analysis_limit_is_located(project, capsys):
    # deeper than the analysis recurses (the parser still accepts it): skipped with an LL000 at
    # the deep code, not at 1:1 and not with a RecursionError traceback
    src = "import os\n\nx = os" + ".b" * 30000 + "\n"
    (project / "deep.py").write_text(src, encoding="utf-8")
    run = lint(capsys, project)
    found = run.at("deep.py")
    assert len(found) == 1 and found[0][2] in ("LL000", "LL001") and "nested" in found[0][3], found
    if found[0][2] == "LL000":
        assert found[0][:2] == (3, 5)
    assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


def _nested_blocks(depth: int) -> str:
    """`depth` nested compound statements of every kind, a finding at the bottom."""
    kinds = ["if c:", "for i{i} in c:", "while c:", "with c as w{i}:", "try:", "def f{i}():", "class C{i}:"]
    lines, closers = [], []
    for i in range(depth):
        kind = kinds[i % len(kinds)].format(i=i)
        lines.append(" " * i + kind)
        if kind == "try:":
            closers.append(" " * i + "finally:\n" + " " * (i + 1) + "pass")
    lines.append(" " * depth + "print(undefined_at_the_bottom)")
    return "c = 1\n" + "\n".join(lines + closers[::-1]) + "\n"


@pytest.mark.parametrize("depth", [50, 99])  # CPython allows at most 99 nested blocks
def test_moderately_deep_legal_code_is_analysed_fully(project, capsys, depth):
    src = _nested_blocks(depth)
    ast.parse(src)
    (project / "nested.py").write_text(src, encoding="utf-8")
    expr = "x = " + "(" * 150 + "-".join(["undefined_in_expr"] * 2) + ")" * 150 + "\n"
    (project / "parens.py").write_text(expr, encoding="utf-8")
    chain = "def g(c):\n    if c == 0:\n        x = 0\n" + "".join(
        f"    elif c == {i}:\n        x = {i}\n" for i in range(1, 300)) + "    return x, undefined_after_elifs\n"
    (project / "elifs.py").write_text(chain, encoding="utf-8")
    run = lint(capsys, project)
    assert [f[2] for f in run.at("nested.py")] == ["LL201"]
    assert run.at("nested.py")[0][0] == depth + 2 and "undefined_at_the_bottom" in run.at("nested.py")[0][3]
    assert [f[2] for f in run.at("parens.py")] == ["LL201", "LL201"]
    # the name after the chain is found (whether `x` may be unbound there is the rules' business)
    assert any(c == "LL201" and "undefined_after_elifs" in m for _, _, c, m in run.at("elifs.py"))
    assert "LL000" not in [f[2] for f in run.at("elifs.py")]
    assert run.code == 1
    run.assert_seed_reported()
    run.assert_no_traceback()


# ---------------------------------------------------------------------------------- odd paths

@pytest.mark.parametrize("content", [b"", b"\n\n", b"# only a comment\n", b"\xef\xbb\xbf", b"   \t  "],
                         ids=["empty", "blank_lines", "comment", "bom_only", "spaces"])
def test_empty_files_are_clean(project, capsys, content):
    (project / "empty.py").write_bytes(content)
    run = lint(capsys, project / "empty.py")
    assert run.findings == [] and run.code == 0
    run = lint(capsys, project)
    assert run.at("empty.py") == [] and run.code == 1
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_directory_named_like_a_python_file(project, capsys):
    folder = project / "x.py"
    folder.mkdir()
    (folder / "inner.py").write_text("def h():\n    return undefined_inner\n", encoding="utf-8")
    for target in (project, folder):  # found by the walk, and named explicitly
        run = lint(capsys, target, project / "seed.py")
        assert [f[:3] for f in run.at("inner.py")] == [(2, 12, "LL201")]
        assert run.at("x.py") == []
        assert run.code == 1
        run.assert_seed_reported()
        run.assert_no_traceback()
    assert read_source(str(folder)).code == "LL003"


def test_fifo_among_the_inputs_does_not_hang(project):
    fifo = project / "pipe.py"
    os.mkfifo(fifo)
    for args in ((project,), (fifo, project / "seed.py")):  # found by the walk, and named explicitly
        run = lint_subprocess(*args)
        run.assert_unreadable("pipe.py", "not a regular file")


def test_symlink_loops(project, capsys):
    (project / "loop_a.py").symlink_to("loop_b.py")
    (project / "loop_b.py").symlink_to("loop_a.py")
    sub = project / "sub"
    sub.mkdir()
    (sub / "up").symlink_to("..", target_is_directory=True)  # a folder loop: the walk must end
    run = lint(capsys, project)
    for name in ("loop_a.py", "loop_b.py"):
        found = run.at(name)
        assert [f[:3] for f in found] == [(1, 1, "LL003")]
        assert "symbolic links" in found[0][3]
    assert run.code == 2
    run.assert_seed_reported()  # exactly once: the folder loop is not followed
    run.assert_no_traceback()


def test_broken_symlink_is_unreadable(project, capsys):
    (project / "dangling.py").symlink_to("does_not_exist.py")
    for target in (project, project / "dangling.py"):
        run = lint(capsys, target, *(() if target == project else (project / "seed.py",)))
        run.assert_unreadable("dangling.py", "No such file")


def test_chmod_000_file(project, capsys):
    secret = project / "secret.py"
    secret.write_text("def s():\n    return undefined_secret\n", encoding="utf-8")
    secret.chmod(0)
    run = lint(capsys, project)
    if os.geteuid() == 0:
        # root reads it anyway (no permission check): it is linted like any file
        assert [f[:3] for f in run.at("secret.py")] == [(2, 12, "LL201")]
        assert run.code == 1
    else:
        assert [f[:3] for f in run.at("secret.py")] == [(1, 1, "LL003")]
        assert "Permission denied" in run.at("secret.py")[0][3]
        assert run.code == 2
    run.assert_seed_reported()
    run.assert_no_traceback()


def test_permission_denied_on_open(project, capsys, monkeypatch):
    # what chmod 000 gives a normal user, forced here so the test means the same as root
    secret = project / "secret.py"
    secret.write_text("x = 1\n", encoding="utf-8")
    real_open = os.open

    def denying_open(path, *args, **kwargs):
        if os.fspath(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(discovery.os, "open", denying_open)
    run = lint(capsys, project)
    run.assert_unreadable("secret.py", "Permission denied")


def test_file_deleted_between_discovery_and_reading(project, capsys, monkeypatch):
    victim = project / "victim.py"
    victim.write_text("x = 1\n", encoding="utf-8")
    real_discover = discovery.discover

    def racing_discover(paths):
        for item in real_discover(paths):
            if isinstance(item, str) and item.endswith("victim.py"):
                os.unlink(item)  # discovered, then gone before it is read
            yield item

    monkeypatch.setattr(cli, "discover", racing_discover)
    run = lint(capsys, project)
    assert not victim.exists()
    run.assert_unreadable("victim.py", "No such file")


def test_file_deleted_between_stat_and_open(project, monkeypatch):
    # the narrower window inside read_source itself
    victim = project / "victim.py"
    victim.write_text("x = 1\n", encoding="utf-8")
    real_open = os.open

    def deleting_open(path, *args, **kwargs):
        if os.fspath(path).endswith("victim.py"):
            os.unlink(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(discovery.os, "open", deleting_open)
    diagnostic = read_source(str(victim))
    assert diagnostic.code == "LL003" and "No such file" in diagnostic.message


def test_fifo_swapped_in_after_stat_does_not_block(project, monkeypatch):
    # a regular file at stat time, a FIFO with no writer at open time: O_NONBLOCK keeps the read
    # from waiting for a writer that never comes
    path = project / "swapped.py"
    path.write_text("x = 1\n", encoding="utf-8")
    real_open = os.open

    def swapping_open(p, *args, **kwargs):
        if os.fspath(p).endswith("swapped.py") and stat.S_ISREG(os.stat(p).st_mode):
            os.unlink(p)
            os.mkfifo(p)
        return real_open(p, *args, **kwargs)

    monkeypatch.setattr(discovery.os, "open", swapping_open)
    t0 = time.perf_counter()
    result = read_source(str(path))
    assert time.perf_counter() - t0 < 5
    assert result == b"" or result.code == "LL003"

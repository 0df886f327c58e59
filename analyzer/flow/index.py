"""The project index: every module summary of one run (`project.summarize_module`), joined to
resolve what one module needs from the others: the function a call site reaches (LL301), what a
star import gives (LL201), what calls of other modules' functions tell a caller and what every
call in the run passes a function (the second pass, `engine.project_call_facts`)."""

from __future__ import annotations

from typing import Optional

from analyzer.flow.call_facts import CallFacts
from analyzer.flow.project import CalleeSummary, ModuleSummary, resolve_relative
from analyzer.flow.run_sites import closed_values, Site

__all__ = ["ProjectIndex", "resolve_star_source"]


class ProjectIndex:
    """All module summaries of one run; resolves a call site's callee to a summary."""

    def __init__(self, summaries: list[ModuleSummary]) -> None:
        self.by_module: dict[str, ModuleSummary] = {}
        for s in summaries:
            if s.module and s.module not in self.by_module:
                self.by_module[s.module] = s
        self._subclasses: Optional[dict[tuple[str, str], list[tuple[ModuleSummary, str]]]] = None
        # (module, function) -> its call sites in the run, and the functions used otherwise
        self._sites: Optional[dict[tuple[str, str], list[Site]]] = None
        self._escaped: set[tuple[str, str]] = set()
        self._closed: dict[tuple[str, str], dict[str, frozenset]] = {}

    def _class_named(self, summary: ModuleSummary, written: str) -> Optional[tuple[ModuleSummary, str]]:
        """(module summary, class name) for a top-level class named as written in `summary`'s
        module (`Base`, `mod.Base`, an imported name), when the run has analysed it."""
        if written in summary.methods:
            return summary, written
        head, _, rest = written.partition(".")
        if head not in summary.imports:
            return None
        mod_name, _, name = ".".join(p for p in (summary.imports[head], rest) if p).rpartition(".")
        owner = self.by_module.get(mod_name)
        return (owner, name) if owner is not None and name in owner.methods else None

    def subclasses(self, summary: ModuleSummary, cls: str) -> list[tuple[ModuleSummary, str]]:
        """Every class of the run that derives from `cls` (directly or not), with its module."""
        if self._subclasses is None:
            direct: dict[tuple[str, str], list[tuple[ModuleSummary, str]]] = {}
            for s in self.by_module.values():
                for d, bases in s.bases.items():
                    for b in bases:
                        found = self._class_named(s, b)
                        if found is not None:
                            direct.setdefault((found[0].module, found[1]), []).append((s, d))
            self._subclasses = direct
        out: list[tuple[ModuleSummary, str]] = []
        todo = [(summary.module, cls)]
        seen = set(todo)
        while todo:
            for s, d in self._subclasses.get(todo.pop(), []):
                if (s.module, d) not in seen:
                    seen.add((s.module, d))
                    out.append((s, d))
                    todo.append((s.module, d))
        return out

    def resolve(self, summary: ModuleSummary, callee: str, cls: Optional[str]) -> Optional[CalleeSummary]:
        parts = callee.split(".")
        if parts[0] in ("self", "cls") and len(parts) == 2 and cls is not None:
            if cls not in summary.methods:  # a nested class: no bases recorded
                return summary.functions.get(f"{cls}.{parts[1]}")
            held = summary.attr_classes.get(cls, {}).get(parts[1])
            if held is not None:
                return self._instance_call(summary, held)
            return self._method(summary, cls, parts[1], 0)[1]
        if len(parts) == 1:
            found = summary.functions.get(parts[0])
            if found is not None:
                return found
        if parts[0] in summary.imports:
            return self.resolve_qualified(".".join([summary.imports[parts[0]]] + parts[1:]))
        if len(parts) == 2 and parts[0] in _class_names(summary):
            return summary.functions.get(callee)  # Cls.static_method()
        return None

    def imported_call_facts(self, summary: ModuleSummary) -> dict[str, CallFacts]:
        """What calls of other modules' functions tell `summary`'s module, by the name it calls them
        (`check_mode` after `from .utils import check_mode`, `utils.check_mode` after `from . import
        utils`), for the functions the run holds (`ModuleSummary.call_facts`)."""
        out: dict[str, CallFacts] = {}
        called = {site.target for site in summary.sites}  # only what the module calls matters
        for local, target in summary.imports.items():
            mod = self.by_module.get(target)
            if mod is not None:
                out.update((f"{local}.{name}", facts) for name, facts in mod.call_facts.items()
                           if f"{target}.{name}" in called)
                continue
            found = self._call_facts_at(target, 0) if target in called else None
            if found is not None:
                out[local] = found
        return out

    def run_closed_params(self, summary: ModuleSummary) -> dict[str, dict[str, frozenset]]:
        """Top-level function of `summary`'s module -> parameter -> the literals every call in the
        run passes it, for the functions used only by direct calls (`flow.run_sites`)."""
        if self._sites is None:
            self._sites, self._escaped = {}, set()
            for s in self.by_module.values():
                for site in s.sites:
                    target = self._function_at(site.target, 0)
                    if target is not None:
                        self._sites.setdefault(target, []).append(site)
                for name in s.escaped:
                    target = self._function_at(name, 0)
                    if target is not None:
                        self._escaped.add(target)
        out = {}
        for name in summary.signatures:
            values = self._run_closed((summary.module, name))
            if values:
                out[name] = values
        return out

    def _run_closed(self, key: tuple[str, str]) -> dict[str, frozenset]:
        """`run_closed_params` of one function; a parameter passed on by a caller holds what the
        caller's callers pass (a cycle of callers leaves it open)."""
        found = self._closed.get(key)
        if found is not None:
            return found
        self._closed[key] = {}  # while in progress
        mod = self.by_module.get(key[0])
        sig = mod.signatures.get(key[1]) if mod is not None else None
        if sig is None or key in self._escaped or key not in self._sites:
            return {}

        def passed_on(caller: str, param: str) -> Optional[frozenset]:
            target = self._function_at(caller, 0)
            return None if target is None else self._run_closed(target).get(param)

        found = self._closed[key] = closed_values(sig, self._sites[key], passed_on)
        return found

    def literal_fields(self, summary: ModuleSummary) -> dict[str, dict[str, frozenset]]:
        """Class, by the name `summary`'s module writes it (`Config` after `from .cfg import
        Config`, `cfg.Config` after `from . import cfg`) -> the attributes it or a base of it in
        the run declares `Literal[...]`."""
        out: dict[str, dict[str, frozenset]] = {}
        # only the classes that annotate a parameter, or that a class of the module derives from
        named = summary.annotated | {b for bases in summary.bases.values() for b in bases}
        for local, target in summary.imports.items():
            mod = self.by_module.get(target)
            if mod is not None:
                for cls in mod.methods:
                    found = self._declared(mod, cls, 0) if f"{local}.{cls}" in named else None
                    if found:
                        out[f"{local}.{cls}"] = found
                continue
            if local not in named:
                continue
            cls = self._class_named(summary, local)
            found = self._declared(*cls, 0) if cls is not None else {}
            if found:
                out[local] = found
        return out

    def _declared(self, summary: ModuleSummary, cls: str, depth: int) -> dict[str, frozenset]:
        """The `Literal` attributes of `cls` and of its bases in the run (the class's own win)."""
        out: dict[str, frozenset] = {}
        if depth <= 8:
            for base in summary.bases.get(cls, ()):
                named = self._class_named(summary, base)
                if named is not None:
                    out.update(self._declared(*named, depth + 1))
        out.update(summary.fields.get(cls, {}))
        return out

    def _function_at(self, dotted: str, depth: int) -> Optional[tuple[str, str]]:
        """(module, name) of the run's top-level function `pkg.mod.name`, following re-exports."""
        mod_name, _, name = dotted.rpartition(".")
        mod = self.by_module.get(mod_name)
        if mod is None or depth > 8:
            return None
        if name in mod.signatures:
            return mod_name, name
        target = mod.imports.get(name)
        return None if target is None else self._function_at(target, depth + 1)

    def _call_facts_at(self, dotted: str, depth: int) -> Optional[CallFacts]:
        """The summary of the function `pkg.mod.name`, following re-exports (`from .x import f`)."""
        mod_name, _, name = dotted.rpartition(".")
        mod = self.by_module.get(mod_name)
        if mod is None or depth > 8:
            return None
        if name in mod.call_facts:
            return mod.call_facts[name]
        target = mod.imports.get(name)
        return None if target is None else self._call_facts_at(target, depth + 1)

    def _instance_call(self, summary: ModuleSummary, held: str) -> Optional[CalleeSummary]:
        """What calling an instance of the class named `held` (as written in `summary`'s module)
        returns: its `__call__` if the run sees one, else its `forward` (torch modules)."""
        found = self._class_named(summary, held)
        if found is None:
            return None
        owner, name = found
        call = self._method(owner, name, "__call__", 0)[1]
        return call if call is not None else self._method(owner, name, "forward", 0)[1]

    def _method(self, summary: ModuleSummary, cls: str, name: str, depth: int) -> tuple[bool, Optional[CalleeSummary]]:
        """(settled, summary) for `self.name()` in `cls`: the nearest definition along the bases,
        in method-resolution order for plain hierarchies. A base the run did not analyse
        (`nn.Module`, a dynamic expression) may define the method, so it settles with None."""
        if depth > 8:
            return True, None
        if name in summary.methods.get(cls, ()):
            return True, summary.functions.get(f"{cls}.{name}")
        for base in summary.bases.get(cls, ()):
            if base == "object":
                continue
            named = self._class_named(summary, base)
            if named is None:
                return True, None
            settled, found = self._method(named[0], named[1], name, depth + 1)
            if settled:
                return True, found
        return False, None

    def resolve_qualified(self, dotted: str, depth: int = 0) -> Optional[CalleeSummary]:
        """`pkg.mod.func` or `pkg.mod.Cls.method`, following re-exports (`from .x import f`)."""
        if depth > 8:
            return None
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            mod = self.by_module.get(".".join(parts[:cut]))
            if mod is None:
                continue
            rest = parts[cut:]
            found = mod.functions.get(".".join(rest))
            if found is not None:
                return found
            if rest[0] in mod.imports:
                return self.resolve_qualified(".".join([mod.imports[rest[0]]] + rest[1:]), depth + 1)
            return None
        return None


def _class_names(summary: ModuleSummary) -> set[str]:
    return {q.split(".")[0] for q in summary.functions if "." in q}


def resolve_star_source(index: "ProjectIndex", module: str, level: int, target: str) -> str:
    """The module that `from <level dots><target> import *` in `module` names."""
    if not level:
        return target
    owner = index.by_module.get(module)
    return resolve_relative(module, owner is not None and owner.is_package, level, target or None)

"""Simple statements: one handler per statement kind that does not hold a block of statements
(assignments, imports, `return`, `raise`, `assert`, `break`, definitions).
"""

from __future__ import annotations

from analyzer import tree as T
from analyzer.flow.conditions import atom
from analyzer.flow.interpreter.expressions import Expressions
from analyzer.flow.names import target_names
from analyzer.flow.state import EMPTY
from analyzer.flow.syntax import all_args, literal_nonempty

# methods after which a container holds at least one item
_FILLING_METHODS = frozenset({"append", "appendleft", "insert", "add", "setdefault"})


class Statements(Expressions):
    """Runs the statements that hold no nested block."""

    def s_Expr(self, state, node):
        state = self.expr(state, node.value)
        if isinstance(node.value, T.Call):
            if self.never_returns(node):
                return EMPTY
            state = self.checked_by_call(state, node.value)
            func = node.value.func
            if isinstance(func, T.Attribute) and func.attr in _FILLING_METHODS:
                # `items.append(x)`: a later `for ... in items` runs
                return self._filled(state, func.value)
        return state

    def _filled(self, state: tuple, container: T.expr) -> tuple:
        """`container` now holds an item: later loops over it (or tests of it) find it non-empty.
        Recorded only for what the scope loops over, so the paths do not multiply."""
        a = atom(container) if isinstance(container, (T.Name, T.Attribute)) else None
        if a is None or a.key.kind != "truthy" or a.key.subject not in self.loop_subjects():
            return state
        self.fact_names[a.key] = a.names
        return self._with_fact(state, a.key, a.polarity)

    def s_Assign(self, state, node):
        if self._derived_flag(node):
            return self._assign_flag(state, node.targets[0].id, node.value)
        state = self.expr(state, node.value)
        if isinstance(node.value, T.Call) and state:
            self.note_unpacks(node)
        shape = self.shape_of(state, node.value)
        for t in node.targets:
            state = self.assign_target(state, t, shape)
        if len(node.targets) == 1 and isinstance(node.targets[0], T.Name):
            state = self.value_fact(state, node.targets[0].id, node.value)
            if literal_nonempty(node.value):
                state = self._filled(state, node.targets[0])  # `cases = [(2, 3), (4,)]`
        for t in node.targets:
            if isinstance(t, T.Subscript) and isinstance(t.value, (T.Name, T.Attribute)):
                state = self._filled(state, t.value)  # `groups[key] = value`
        return state

    def _derived_flag(self, node: T.Assign) -> bool:
        """`generate = return_audio and self.has_talker`, later tested (`if not generate: return`):
        the flag carries what its condition assumed."""
        value = node.value
        if len(node.targets) != 1 or not isinstance(node.targets[0], T.Name):
            return False
        if not (isinstance(value, (T.BoolOp, T.Compare))
                or (isinstance(value, T.UnaryOp) and isinstance(value.op, T.Not))):
            return False
        name = node.targets[0].id
        if name not in self._test_subjects():
            return False
        return not any(isinstance(n, (T.NamedExpr, T.Lambda)) or (isinstance(n, T.Name) and n.id == name)
                       for n in T.walk(value))

    def s_AugAssign(self, state, node):
        state = self.expr(state, node.value)
        if isinstance(node.target, T.Name):
            self.load(state, node.target)
            shape = None
            if isinstance(node.op, T.Add):
                left = self.shape_of(state, node.target)
                right = self.shape_of(state, node.value)
                if left is not None and right is not None:
                    shape = left + right
            return self.bind(state, node.target.id, shape)
        return self.assign_target(state, node.target)

    def s_AnnAssign(self, state, node):
        self.annotation(node.annotation)
        if node.value is None:
            return state
        state = self.expr(state, node.value)
        state = self.assign_target(state, node.target, self.shape_of(state, node.value))
        if isinstance(node.target, T.Name):
            # `bwd_start: int | None = None` is as telling as the plain assignment
            state = self.value_fact(state, node.target.id, node.value)
            if literal_nonempty(node.value):
                state = self._filled(state, node.target)
        return state

    def s_Delete(self, state, node):
        for t in node.targets:
            if isinstance(t, T.Name):
                self.load(state, t)
                state = self.unbind(state, t.id)
            elif isinstance(t, (T.Tuple, T.List)):
                for n in target_names(t):
                    self.load(state, n)
                    state = self.unbind(state, n.id)
            else:
                state = self.expr(state, t.value if hasattr(t, "value") else t)
                if isinstance(t, T.Subscript):
                    state = self.expr(state, t.slice)
        return state

    def s_Import(self, state, node):
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            state = self.bind(state, name)
        return state

    def s_ImportFrom(self, state, node):
        for alias in node.names:
            if alias.name != "*":
                state = self.bind(state, alias.asname or alias.name)
        return state

    def s_Global(self, state, node):
        return state

    s_Nonlocal = s_Global

    def s_Pass(self, state, node):
        return state

    def s_Return(self, state, node):
        state = self.expr(state, node.value)
        if self.info.kind == "function" and state:
            self.record_return(state, node)
            if self.escaping_defs and not self.dry:
                self.exits.append((node, state))
        return EMPTY

    def s_Raise(self, state, node):
        state = self.expr(state, node.exc)
        self.expr(state, node.cause)
        return EMPTY

    def s_Assert(self, state, node):
        t, f = self.cond(state, node.test)
        self.branch_depth += 1
        self.expr(f, node.msg)
        self.branch_depth -= 1
        return t

    def s_Break(self, state, node):
        if self.loops:
            self.loops[-1].breaks.append(state)
        return EMPTY

    def s_Continue(self, state, node):
        if self.loops:
            self.loops[-1].continues.append(state)
        return EMPTY

    def s_FunctionDef(self, state, node):
        for d in node.decorator_list:
            state = self.expr(state, d)
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            state = self.expr(state, d)
        for a in all_args(node.args):
            self.annotation(a.annotation)
        self.annotation(node.returns)
        self._register_nested(node, self.info, f"{self.qualname}.{node.name}" if self.info.kind != "module" else node.name)
        return self.bind(state, node.name)

    s_AsyncFunctionDef = s_FunctionDef

    def s_ClassDef(self, state, node):
        for d in node.decorator_list:
            state = self.expr(state, d)
        for b in node.bases:
            state = self.expr(state, b)
        for kw in node.keywords:
            state = self.expr(state, kw.value)
        self._register_nested(node, self.info, f"{self.qualname}.{node.name}" if self.info.kind != "module" else node.name)
        return self.bind(state, node.name)

    def s_TypeAlias(self, state, node):
        return self.bind(state, node.name.id)

"""Expressions: loads, walrus bindings, `and`/`or` and conditional expressions, comprehensions,
conditions split into a true and a false state, and assignment targets.
"""

from __future__ import annotations

from typing import Optional

from analyzer import tree as T
from analyzer.flow.call_facts import CallFacts, facts_after_call
from analyzer.flow.conditions import assume, literal_value
from analyzer.flow.interpreter.loops import Loops
from analyzer.flow.names import is_type_checking_test, target_names
from analyzer.flow.results import UseKind
from analyzer.flow.shapes import Shape
from analyzer.flow.state import EMPTY, FactKey, forget_new_facts
from analyzer.flow.syntax import dotted_name, nonempty_when


class Expressions(Loops):
    """Evaluates expressions for their loads and bindings."""

    def expr(self, state: tuple, node: Optional[T.AST]) -> tuple:
        """Evaluate `node` for its loads and bindings (walrus); return the state after it."""
        if node is None or not state:
            return state
        if isinstance(node, T.Name):
            if isinstance(node.ctx, T.Load):
                self.load(state, node)
                return self._survived_load(state, node.id)
            return state
        if isinstance(node, T.Constant):
            return state
        if isinstance(node, T.NamedExpr):
            state = self.expr(state, node.value)
            return self.bind(state, node.target.id, self.shape_of(state, node.value))
        if isinstance(node, T.BoolOp):
            t, f = self.cond(state, node)
            return forget_new_facts(self._join(t, f), state, node)
        if isinstance(node, T.IfExp):
            t, f = self.cond(state, node.test)
            self.branch_depth += 1
            t = self.expr(t, node.body)
            f = self.expr(f, node.orelse)
            self.branch_depth -= 1
            return forget_new_facts(self._join(t, f), state, node)
        if isinstance(node, T.Lambda):
            for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                state = self.expr(state, d)
            self._register_nested(node, self.nest_parent(), self.qualname + ".<lambda>")
            return state
        if isinstance(node, (T.ListComp, T.SetComp, T.GeneratorExp, T.DictComp)):
            return self.comprehension(state, node)
        if isinstance(node, T.Call):
            self.module.call_scopes[id(node)] = self.info.node  # where its arguments are read
            state = self.expr(state, node.func)
            for a in node.args:
                state = self.expr(state, a)
            for kw in node.keywords:
                state = self.expr(state, kw.value)
            if isinstance(node.func, T.Name):
                state = self.direct_call(state, node, self.cond)
            return state
        for child in T.iter_child_nodes(node):
            if isinstance(child, T.expr):
                state = self.expr(state, child)
            elif isinstance(child, (T.comprehension, T.keyword, T.arguments)):
                for sub in T.iter_child_nodes(child):
                    if isinstance(sub, T.expr):
                        state = self.expr(state, sub)
        return state

    def comprehension(self, state: tuple, node: T.AST) -> tuple:
        gens = node.generators
        state = self.expr(state, gens[0].iter)
        if self.info.kind == "class" and not self.shadow:
            self._class_names_in_comprehension(node)
        names: set[str] = set()
        for g in gens:
            for n in target_names(g.target):
                names.add(n.id)
        self.shadow.append(names)
        self.branch_depth += 1
        inner = state
        for i, g in enumerate(gens):
            if i:
                inner = self.expr(inner, g.iter)
            for cond in g.ifs:
                # the element is built only for items that pass: `[r for p in ps if (r := f(p))]`
                inner = self.cond(inner, cond)[0]
        if isinstance(node, T.DictComp):
            inner = self.expr(inner, node.key)
            inner = self.expr(inner, node.value)
        else:
            inner = self.expr(inner, node.elt)
        self.branch_depth -= 1
        self.shadow.pop()
        # walrus bindings inside the comprehension happen only if it runs at least once
        return self._join(state, inner) if inner is not state else state

    def _class_names_in_comprehension(self, node: T.AST) -> None:
        """In a class body only a comprehension's first iterable is evaluated in the class scope;
        the rest runs in the comprehension's own scope, which skips the class (also when PEP 709
        inlines it): a class-level name read there raises NameError unless a module global or an
        enclosing function binds it too. Lambdas are nested scopes, judged on their own."""
        first = node.generators[0].iter
        targets: set[str] = set()
        loads: list[T.Name] = []
        stack: list[T.AST] = [child for child in T.iter_child_nodes(node)]
        while stack:
            cur = stack.pop()
            if cur is first:
                continue
            if isinstance(cur, T.Lambda):
                stack.extend(cur.args.defaults)
                stack.extend(d for d in cur.args.kw_defaults if d is not None)
                continue
            if isinstance(cur, T.comprehension):
                targets.update(n.id for n in target_names(cur.target))
            elif isinstance(cur, T.Name) and isinstance(cur.ctx, T.Load):
                loads.append(cur)
            stack.extend(T.iter_child_nodes(cur))
        for load in loads:
            name = load.id
            if name in self.info.locals and name not in targets and not self._resolves_outside(name):
                self.report(load, name, UseKind.CLASS_SCOPE, detail="comprehension")

    def _namespace_member(self, node: T.expr) -> "tuple[str, bool] | None":
        """(name, whether the test holds when the name is there) for `"x" in globals()` /
        `"x" not in locals()` (also `vars()`, `dir()`): `globals()` speaks of this scope's `x`
        only at module level or where the scope declares `global x`."""
        if not (isinstance(node, T.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (T.In, T.NotIn))):
            return None
        left, right = node.left, node.comparators[0]
        if not (isinstance(left, T.Constant) and isinstance(left.value, str) and left.value.isidentifier()
                and isinstance(right, T.Call) and isinstance(right.func, T.Name) and not right.args
                and not right.keywords and right.func.id in ("globals", "locals", "vars", "dir")):
            return None
        name = left.value
        if right.func.id == "globals" and self.info.kind != "module" and name not in self.b.globals:
            return None
        return name, isinstance(node.ops[0], T.In)

    def cond(self, state: tuple, node: T.expr) -> tuple[tuple, tuple]:
        """(state where `node` is true, state where it is false)."""
        if not state:
            return EMPTY, EMPTY
        if isinstance(node, T.BoolOp):
            is_and = isinstance(node.op, T.And)
            cur = state
            others = []
            for i, v in enumerate(node.values):
                if i:
                    self.branch_depth += 1
                t, f = self.cond(cur, v)
                if i:
                    self.branch_depth -= 1
                if is_and:
                    others.append(f)
                    cur = t
                else:
                    others.append(t)
                    cur = f
            rest = self._join(*others)
            return (cur, rest) if is_and else (rest, cur)
        if isinstance(node, T.UnaryOp) and isinstance(node.op, T.Not):
            t, f = self.cond(state, node.operand)
            return f, t
        member = self._namespace_member(node)
        if member is not None:
            # `if "rouge" not in globals(): rouge = Rouge()`: where the test says the namespace
            # holds the name, the name is bound
            name, positive = member
            state = self.expr(state, node)
            bound = self.bind(state, name)
            return (bound, state) if positive else (state, bound)
        inner = _truth_wrapper_arg(node)
        if inner is not None:
            # `bool(x)`, and the kernel DSLs' compile-time `const_expr(x)` (CuTe DSL, FlyDSL): the
            # test is `x` itself, so `if const_expr(not ROUND): ...` relates to `if const_expr(ROUND):`
            state = self.expr(state, node.func)
            return self.cond(state, inner)
        if isinstance(node, T.Constant):
            return (state, EMPTY) if node.value else (EMPTY, state)
        if is_type_checking_test(node):
            return EMPTY, state
        if isinstance(node, T.NamedExpr):
            state = self.expr(state, node)
            return self._split(state, T.Name(node.target.cst, node.target.pos, node.target.id, T.LOAD))
        state = self.expr(state, node)
        t, f = self._split(state, node)
        ran = nonempty_when(node)
        if ran is not None:
            # `any(... (m := f(x)) ...)` true, or `all(...)` false: the generator ran at least once,
            # so its walrus targets are bound on that branch
            names, when = ran
            for n in names:
                if when:
                    t = self.bind(t, n)
                else:
                    f = self.bind(f, n)
        return t, f

    def expr_children(self, state: tuple, node: T.AST) -> tuple:
        for child in T.iter_child_nodes(node):
            if isinstance(child, T.expr):
                state = self.expr(state, child)
        return state

    def assign_target(self, state: tuple, target: T.expr, value_shape: Optional[Shape] = None) -> tuple:
        if isinstance(target, T.Name):
            return self.bind(state, target.id, value_shape)
        if isinstance(target, (T.Tuple, T.List)):
            for i, elt in enumerate(target.elts):
                sub = None
                if value_shape is not None and not any(isinstance(e, T.Starred) for e in target.elts) and i < len(value_shape):
                    sub = value_shape[i]
                state = self.assign_target(state, elt, sub)
            return state
        if isinstance(target, T.Starred):
            return self.assign_target(state, target.value)
        # attribute / subscript store: evaluate the object and index, then forget facts about it
        if isinstance(target, T.Attribute):
            state = self.expr(state, target.value)
            text = dotted_name(target)
            if text is not None:
                state = self.invalidate_all(state, [text])
            return state
        if isinstance(target, T.Subscript):
            state = self.expr(state, target.value)
            return self.expr(state, target.slice)
        return self.expr(state, target)

    def _assign_flag(self, state: tuple, name: str, value: T.expr) -> tuple:
        key = FactKey("truthy", name, None)
        self.fact_names[key] = frozenset({name})
        return self._join(*(self._with_fact(self.assign_target(branch, T.Name(None, None, name, T.STORE), None),
                                            key, truth)
                            for truth, branch in zip((True, False), self.cond(state, value))))

    def value_fact(self, state: tuple, name: str, value: T.expr) -> tuple:
        """`x = None` / `x = False` / `x = []`: later tests of `x` are decided on this path."""
        key = None
        names = frozenset({name})
        if isinstance(value, (T.Constant, T.UnaryOp, T.Attribute)):
            # `x = None`, `x = -1`, and an enum member (`gemm_type = GEMMType.FPROP`): one value
            lit = literal_value(value)
            if lit is not None:
                key, truth = FactKey("eq", name, lit), True
        elif isinstance(value, T.IfExp):
            # `variant = "i2v" if image is not None else "t2v"`: one of two known values
            lits = {literal_value(value.body), literal_value(value.orelse)}
            if None not in lits:
                key, truth = FactKey("in", name, frozenset(lits)), True
        elif isinstance(value, T.Call) and isinstance(value.func, T.Attribute) and value.func.attr == "parse_args" \
                and isinstance(value.func.value, T.Name):
            # `args = parser.parse_args()`: each tested option with `choices` holds one of them
            return self._option_facts(state, name, self.facts.option_choices().get(value.func.value.id, {}))
        elif isinstance(value, T.Call):
            # `kind = _kind_of(cfg)`, where `_kind_of` returns only literals: one of those
            facts = self.call_facts(value)
            if facts is not None and facts.fields:  # `args = parse_args()`, which returns `parser.parse_args()`
                return self._option_facts(state, name, dict(facts.fields))
            if facts is not None and facts.returns:
                key, truth = FactKey("in", name, facts.returns), True
        elif isinstance(value, T.Name) and value.id != name:
            # `out = _MISSING` ... `if out is not _MISSING:`: decided while neither is rebound
            key, truth, names = FactKey("same", name, value.id), True, frozenset({name, value.id})
        # (empty containers are not recorded: `xs = []` is usually filled by `xs.append` later)
        if key is None:
            return state
        self.fact_names[key] = names
        return self._with_fact(state, key, truth)

    def _option_facts(self, state: tuple, name: str, options: dict) -> tuple:
        """`name.option in values` for each option of a parsed command line the scope tests."""
        for key, names, truth in self.facts.tested_fields(name, options):
            self.fact_names[key] = names
            state = self._with_fact(state, key, truth)
        return state

    def call_facts(self, call: T.Call) -> Optional[CallFacts]:
        """What `call` tells this scope once it returns, when it calls a function of the module (or
        of another module of the run) that no local of this scope shadows."""
        root = dotted_name(call.func)
        if root is None or (self.info.kind != "module" and root.split(".")[0] in self.info.locals):
            return None
        return self.module.call_facts_for(call.func)

    def checked_by_call(self, state: tuple, call: T.Call) -> tuple:
        """The paths that go on after `call` to a validator returned: each holds what the validator
        checked of the arguments (`check_mode(args.mode)`: `args.mode in MODES`); a path that
        contradicts a check ends there, as the call raises on it."""
        facts = self.call_facts(call)
        if facts is None or not facts.ensures:
            return state
        for key, names, truth in facts_after_call(facts, call):
            self.fact_names[key] = names
            state = self._join([q for q in (assume(p, key, truth) for p in state) if q is not None])
        return state


_TRUTH_WRAPPERS = frozenset({"bool", "const_expr"})


def _truth_wrapper_arg(node: T.expr):
    """The argument of `bool(x)` or `const_expr(x)` (also `cutlass.const_expr(x)`), else None."""
    if not (isinstance(node, T.Call) and len(node.args) == 1 and not node.keywords
            and not isinstance(node.args[0], T.Starred)):
        return None
    f = node.func
    name = f.id if isinstance(f, T.Name) else f.attr if isinstance(f, T.Attribute) else None
    if name == "bool" and not isinstance(f, T.Name):
        return None  # `np.bool(...)` and the like: not the builtin
    return node.args[0] if name in _TRUTH_WRAPPERS else None

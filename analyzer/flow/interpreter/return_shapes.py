"""Tuple shapes through locals: the records of each `return` and of each `a, b = f()` unpacking.
"""

from __future__ import annotations

from typing import Optional

from analyzer import tree as T
from analyzer.flow.interpreter.verdicts import Verdicts
from analyzer.flow.results import ReturnRecord, UnpackSite
from analyzer.flow.state import Fact
from analyzer.flow.shapes import Shape
from analyzer.flow.syntax import dotted_name, repetition


class ReturnShapes(Verdicts):
    """Records returns and unpackings with the tuple shapes the paths give them."""

    def shape_of(self, state: tuple, node: Optional[T.AST]) -> Optional[Shape]:
        if isinstance(node, T.Tuple):
            out: list = []
            for e in node.elts:
                if isinstance(e, T.Starred):
                    # `*([None] * 3)` spreads a literal of known length; anything else is unknown
                    spread = self._literal_items(state, e.value)
                    if spread is None:
                        return None
                    out.extend(spread)
                else:
                    out.append(self.shape_of(state, e))
            return tuple(out)
        repeated = repetition(node)
        if repeated is not None:
            # `(None,) * 8`: the gradient padding of autograd backwards
            inner = self.shape_of(state, repeated[0])
            if inner is not None:
                return inner * repeated[1]
        if isinstance(node, T.Name) and node.id in self.index and state:
            shapes = self._path_shapes(state, self.index[node.id])
            if shapes is not None and len(shapes) == 1:
                return shapes.pop()
            return None
        if isinstance(node, T.BinOp) and isinstance(node.op, T.Add):
            left = self.shape_of(state, node.left)
            right = self.shape_of(state, node.right)
            if left is not None and right is not None:
                return left + right
        return None

    def _literal_items(self, state: tuple, node: T.AST) -> Optional[Shape]:
        """Shapes of the items a starred literal spreads (`[None] * 3`, `(a, b)`), if known."""
        if isinstance(node, T.List) and not any(isinstance(e, T.Starred) for e in node.elts):
            return tuple(self.shape_of(state, e) for e in node.elts)
        if isinstance(node, T.BinOp) and isinstance(node.op, T.Add):
            left, right = self._literal_items(state, node.left), self._literal_items(state, node.right)
            return left + right if left is not None and right is not None else None
        repeated = repetition(node)
        if repeated is not None:
            inner = self._literal_items(state, repeated[0])
            return inner * repeated[1] if inner is not None else None
        if isinstance(node, T.Tuple):
            return self.shape_of(state, node)
        if isinstance(node, T.Name):
            # `head = (w, q)` ... `return *head, None`: a local holding a known tuple
            return self.shape_of(state, node)
        return None

    def note_unpacks(self, node: T.Assign) -> None:
        if self.dry:
            return
        callee = dotted_name(node.value.func)
        if callee is None:
            return
        cls = self.info.parent.name if (self.info.kind == "function" and self.info.parent is not None
                                        and self.info.parent.kind == "class") else None
        for t in node.targets:
            if isinstance(t, (T.Tuple, T.List)):
                stars = sum(1 for e in t.elts if isinstance(e, T.Starred))
                if stars > 1:
                    continue
                self.sink.unpacks.append(UnpackSite(t, len(t.elts) - stars, bool(stars), callee, cls,
                                                    self.qualname.rsplit(".", 1)[-1] if cls else None))

    def record_return(self, state: tuple, node: T.Return) -> None:
        if self.dry:
            return
        value = node.value
        is_none = value is None or (isinstance(value, T.Constant) and value.value is None)
        shape = None if is_none else self.shape_of(state, value)
        head = None
        if shape is None and isinstance(value, T.Tuple) and any(isinstance(e, T.Starred) for e in value.elts):
            head = sum(1 for e in value.elts if not isinstance(e, T.Starred))
        common = -1
        for p in state:
            common &= p.bound
        bound = frozenset(n for n, m in self.index.items() if common & m)
        alt: tuple = ()
        if shape is None and isinstance(value, T.Name) and value.id in self.index:
            per_path = self._path_shapes(state, self.index[value.id])
            if per_path is not None and len(per_path) > 1 and not self._flag_chosen(state, self.index[value.id]):
                alt = tuple(sorted(per_path, key=lambda sh: (len(sh), repr(sh))))
        self.returns.append(ReturnRecord(node, value, shape, head, is_none, bound, alt))

    def _flag_chosen(self, state: tuple, mask: int) -> bool:
        """Do the paths holding different shapes differ in a fact about an optional argument
        (`if output_attentions: outputs += (attn,)`)? Then the caller chose the size."""
        def shape_on(p):
            return next((sh for m, sh in p.shapes if m == mask), None)

        paths = list(state)
        for i, a in enumerate(paths):
            for b in paths[i + 1:]:
                if shape_on(a) == shape_on(b):
                    continue
                if any(f.key.subject in self.optional_params and Fact(f.key, not f.truth) in b.facts for f in a.facts):
                    return True
        return False

    @staticmethod
    def _path_shapes(state: tuple, mask: int) -> Optional[set]:
        """The tuple shapes a local holds on the paths of `state`, if known on every one."""
        shapes = set()
        for p in state:
            found = None
            for m, sh in p.shapes:
                if m == mask:
                    found = sh
            if found is None or not p.bound & mask:
                return None
            shapes.add(found)
        return shapes

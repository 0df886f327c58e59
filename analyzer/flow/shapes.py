"""Tuple shapes: a known tuple is a Python tuple of item shapes; None is an item that is not a
tuple literal (or not known to be one)."""

from __future__ import annotations

from typing import Optional, Union

from analyzer import tree as T

__all__ = ["Shape", "shape_text", "describe_shape", "annotation_allows_variants"]

Shape = tuple  # tuple[Optional[Shape], ...]


def shape_text(shape: Optional[Shape]) -> str:
    """`(_, (_, _))` for a 2-tuple whose second item is a 2-tuple."""
    if shape is None:
        return "_"
    inner = ", ".join(shape_text(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def describe_shape(shape: Shape) -> str:
    """Words for a shape: '5 values' when flat, else the nesting."""
    if all(s is None for s in shape):
        n = len(shape)
        return f"{n} value" if n == 1 else f"{n} values"
    return f"a tuple shaped {shape_text(shape)}"


def flat_arity(shape: Union[Shape, None]) -> Optional[int]:
    return None if shape is None else len(shape)


def short_shape(shape: Shape) -> str:
    """The other side of a comparison: '6' when flat, else the nesting."""
    if all(s is None for s in shape):
        return str(len(shape))
    return shape_text(shape)


def annotation_allows_variants(ann: Optional[T.expr]) -> bool:
    """True unless the return annotation is absent or one fixed-size tuple type."""
    if ann is None:
        return False
    node = ann
    if isinstance(node, T.Subscript):
        base = node.value
        name = base.attr if isinstance(base, T.Attribute) else getattr(base, "id", "")
        if name == "Optional":
            node = node.slice
            if isinstance(node, T.Subscript):
                base = node.value
                name = base.attr if isinstance(base, T.Attribute) else getattr(base, "id", "")
            else:
                return True
        if name in ("tuple", "Tuple"):
            items = node.slice.elts if isinstance(node.slice, T.Tuple) else [node.slice]
            return any(isinstance(i, T.Constant) and i.value is Ellipsis for i in items)
    return True

"""The path interpreter: one scope's statements run over path sets, as a stack of layers (see
`frame`), each in its own module and calling only downward."""

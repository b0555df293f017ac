"""A fast path for calculated fields that are plain arithmetic (``Cantidad * Precio``).

Evaluating a formula through the ``formulas`` library costs about 0.1-0.2 ms (its
dispatcher, numpy scalars), which is most of what a 15-field schema costs per lead write.
Most calculated fields are arithmetic on numbers: field codes, decimal literals, ``+ - * /``,
unary signs and parentheses. :func:`compile_arithmetic` turns such an expression into a
Python closure; anything else (functions, ``^``, ``%``, ``&``, comparisons, text, literals
such as ``TRUE``) gives ``None`` and the library evaluates it.

The library stays the authority: an expression is only compiled here after the library has
parsed and accepted it, every reference must be one the library reported, and the closure
is only used when every value it reads is a number or blank (text, booleans, dates and
lists go to the library, which converts them as Excel does). Excel numbers are IEEE doubles,
as Python floats are, so the arithmetic is the same; blanks count as 0; division by zero is
``#DIV/0!``. The caller post-processes the float exactly as it does the library's result
(15 significant digits, ``#NUM!`` for an infinite or NaN result).
tests/fields/test_arithmetic.py checks the two paths against each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Node = Callable[[Mapping[str, float]], float]

_TOKEN = re.compile(r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)(?![0-9A-Za-z_.])"
                    r"|(?P<name>[^\W\d]\w*)(?![\w.(!])|(?P<op>[-+*/()]))")


class _NotArithmetic(Exception):
    pass


def _tokens(expression: str) -> list[tuple[str, str]]:
    text = expression.strip()
    if text.startswith("="):
        text = text[1:]
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _NotArithmetic
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    """Recursive descent: expr = term (('+'|'-') term)*; term = unary (('*'|'/') unary)*;
    unary = ('+'|'-') unary | atom; atom = number | name | '(' expr ')'."""

    def __init__(self, tokens: list[tuple[str, str]], references: frozenset[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.references = references
        self.binary = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _NotArithmetic
        self.pos += 1
        return token

    def expr(self) -> Node:
        node = self.term()
        while (token := self.peek()) is not None and token[1] in ("+", "-"):
            self.take()
            self.binary += 1
            left, right = node, self.term()
            node = _add(left, right) if token[1] == "+" else _sub(left, right)
        return node

    def term(self) -> Node:
        node = self.unary()
        while (token := self.peek()) is not None and token[1] in ("*", "/"):
            self.take()
            self.binary += 1
            left, right = node, self.unary()
            node = _mul(left, right) if token[1] == "*" else _div(left, right)
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and token[1] in ("+", "-"):
            self.take()
            inner = self.unary()
            return inner if token[1] == "+" else _neg(inner)
        return self.atom()

    def atom(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            return _const(float(text))
        if kind == "name":
            name = text.upper()
            if name not in self.references:
                raise _NotArithmetic  # TRUE, FALSE or anything the library reads otherwise
            return _ref(name)
        if text == "(":
            node = self.expr()
            if self.take()[1] != ")":
                raise _NotArithmetic
            return node
        raise _NotArithmetic


def _const(value: float) -> Node:
    return lambda values: value


def _ref(name: str) -> Node:
    return lambda values: values[name]


def _add(a: Node, b: Node) -> Node:
    return lambda values: a(values) + b(values)


def _sub(a: Node, b: Node) -> Node:
    return lambda values: a(values) - b(values)


def _mul(a: Node, b: Node) -> Node:
    return lambda values: a(values) * b(values)


def _div(a: Node, b: Node) -> Node:
    return lambda values: a(values) / b(values)  # ZeroDivisionError: the caller's #DIV/0!


def _neg(a: Node) -> Node:
    return lambda values: -a(values)


def compile_arithmetic(expression: str, references: frozenset[str]) -> Node | None:
    """A closure computing ``expression`` from ``{REFERENCE: float}`` (upper-cased names,
    blanks as 0.0), or None when the expression is not plain arithmetic on ``references``.
    An expression without a binary operator (``A``, ``+A``, ``--A``) is left to the library:
    it gives a blank for a blank field and passes whole numbers through unrounded."""
    try:
        parser = _Parser(_tokens(expression), references)
        node = parser.expr()
    except _NotArithmetic:
        return None
    if parser.pos != len(parser.tokens) or parser.binary == 0:
        return None
    return node

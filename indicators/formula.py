"""Indicator formulas: a small, safe arithmetic language over data item codes.

An indicator such as "social dwellings per 1000 inhabitants" is stored as the text
``1000 * SOCIAL_DWELLINGS / POPULATION``. This module parses such text into a tiny syntax tree
and evaluates it, for one municipality (``Formula.evaluate``) or for a whole DataFrame at once
(``Formula.evaluate_frame``). Nothing is ever handed to ``eval``/``exec`` or Python's ``ast``.

The language::

    formula  := sum
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/") unary)*
    unary    := "-" unary | primary
    primary  := NUMBER | CODE | "(" sum ")"
    NUMBER   := digits, optionally followed by "." and digits     (1000, 2.5 — no exponent,
                                                                   no leading or trailing dot)
    CODE     := [A-Za-z_][A-Za-z0-9_.]*                            (SOCIAL_DWELLINGS, POP_2026,
                                                                   C19.A)

Whitespace (spaces, tabs, newlines) between tokens is ignored. Codes are case-sensitive.
``*`` and ``/`` bind tighter than ``+`` and ``-``; operators of equal precedence associate to
the left (``A - B - C`` is ``(A - B) - C``); unary minus binds tighter than ``*`` and ``/``.
There is no unary plus, no exponentiation, no function call and no implicit multiplication.

Undefined results are values, not errors: a missing input (``None``, NaN or an infinite
number) gives "missing input: CODE" naming the first missing code in formula order, even when
the formula would also divide by zero; otherwise a zero denominator anywhere gives
"division by zero"; otherwise a result that overflows to infinity gives "result is not a
finite number". Reasons are plain English constants; the UI translates them by key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from .errors import IndicatorsError

__all__ = [
    "MAX_DEPTH",
    "MAX_NESTING",
    "REASON_DIV_ZERO",
    "REASON_MISSING",
    "REASON_NOT_FINITE",
    "BinaryOp",
    "Code",
    "Formula",
    "FormulaError",
    "Negate",
    "Node",
    "Number",
    "missing_reason",
    "parse_formula",
    "validate_formula",
]

REASON_MISSING = "missing input"
REASON_DIV_ZERO = "division by zero"
REASON_NOT_FINITE = "result is not a finite number"

# Real formulas nest a handful of levels. The caps keep the recursive-descent parser (about four
# frames per parenthesis or unary minus) and the recursive evaluators (one frame per tree level)
# far below Python's recursion limit, whatever text is submitted.
MAX_NESTING = 50  # parentheses and unary minus signs open at once
MAX_DEPTH = 300  # levels of the syntax tree, e.g. terms in one long sum

CODE_PATTERN = r"[A-Za-z_][A-Za-z0-9_.]*"
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CODE_RE = re.compile(CODE_PATTERN)
_WHITESPACE = " \t\r\n"
_OPERATORS = "+-*/()"


def missing_reason(code: str) -> str:
    """The reason given when ``code`` has no value."""
    return f"{REASON_MISSING}: {code}"


class FormulaError(IndicatorsError, ValueError):
    """A formula that cannot be parsed or refers to unknown data items.

    ``position`` is the 1-based character position of the problem as shown in the message
    (``None`` when the problem has no single place, e.g. unknown codes); ``offset`` is the same
    place as a 0-based index into the text.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    @property
    def offset(self) -> int | None:
        return None if self.position is None else self.position - 1


# --- syntax tree -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    depth: int = field(default=1, init=False, compare=False)


@dataclass(frozen=True, slots=True)
class Code:
    name: str
    depth: int = field(default=1, init=False, compare=False)


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node
    depth: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", self.operand.depth + 1)


@dataclass(frozen=True, slots=True)
class BinaryOp:
    op: Literal["+", "-", "*", "/"]
    left: Node
    right: Node
    depth: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", max(self.left.depth, self.right.depth) + 1)


Node = Number | Code | Negate | BinaryOp


# --- tokenizer and parser ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["number", "code", "op", "end"]
    text: str
    offset: int  # 0-based


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "end of formula"
    return f"'{token.text}'"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _WHITESPACE:
            i += 1
            continue
        if char in _OPERATORS:
            tokens.append(_Token("op", char, i))
            i += 1
            continue
        match = _NUMBER_RE.match(text, i)
        if match:
            tokens.append(_Token("number", match.group(), i))
            i = match.end()
            continue
        match = _CODE_RE.match(text, i)
        if match:
            tokens.append(_Token("code", match.group(), i))
            i = match.end()
            continue
        raise FormulaError(f"unexpected character {char!r} at position {i + 1}", i + 1)
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._nesting = 0

    @property
    def _current(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def _error(self, token: _Token, expected: str = "") -> FormulaError:
        message = f"unexpected {_describe(token)} at position {token.offset + 1}"
        if expected:
            message += f" (expected {expected})"
        return FormulaError(message, token.offset + 1)

    def _enter(self, token: _Token) -> None:
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            raise FormulaError(f"formula is nested too deeply at position {token.offset + 1}", token.offset + 1)

    def _checked(self, node: Node, token: _Token) -> Node:
        if node.depth > MAX_DEPTH:
            raise FormulaError(
                f"formula is too long or nested too deeply at position {token.offset + 1}",
                token.offset + 1,
            )
        return node

    def parse(self) -> Node:
        node = self._sum()
        if self._current.kind != "end":
            raise self._error(self._current, "an operator")
        return node

    def _sum(self) -> Node:
        node = self._product()
        while self._current.kind == "op" and self._current.text in "+-":
            token = self._advance()
            op: Literal["+", "-"] = "+" if token.text == "+" else "-"
            node = self._checked(BinaryOp(op, node, self._product()), token)
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self._current.kind == "op" and self._current.text in "*/":
            token = self._advance()
            op: Literal["*", "/"] = "*" if token.text == "*" else "/"
            node = self._checked(BinaryOp(op, node, self._unary()), token)
        return node

    def _unary(self) -> Node:
        token = self._current
        if token.kind == "op" and token.text == "-":
            self._advance()
            self._enter(token)
            node = self._checked(Negate(self._unary()), token)
            self._nesting -= 1
            return node
        return self._primary()

    def _primary(self) -> Node:
        token = self._advance()
        if token.kind == "number":
            value = float(token.text)
            if not math.isfinite(value):  # 400 digits and more: no float holds it
                raise FormulaError(f"number too large at position {token.offset + 1}", token.offset + 1)
            return Number(value)
        if token.kind == "code":
            return Code(token.text)
        if token.kind == "op" and token.text == "(":
            self._enter(token)
            node = self._sum()
            closing = self._current
            if not (closing.kind == "op" and closing.text == ")"):
                raise self._error(closing, "')'")
            self._advance()
            self._nesting -= 1
            return node
        raise self._error(token, "a number, a data item code or '('")


def _codes_in_order(node: Node) -> tuple[str, ...]:
    """Codes in order of first appearance in the text (depth-first, left to right)."""
    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Code):
            seen.setdefault(current.name, None)
        elif isinstance(current, Negate):
            stack.append(current.operand)
        elif isinstance(current, BinaryOp):
            stack.append(current.right)
            stack.append(current.left)
    return tuple(seen)


# --- evaluation ----------------------------------------------------------------------------


class _DivisionByZero(Exception):
    pass


def _as_float(code: str, value: object) -> float | None:
    """A finite float, or ``None`` for a missing (None, NaN, pandas.NA, infinite) input."""
    if isinstance(value, (int, float, Decimal, np.number)):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    raise TypeError(f"value of {code!r} is not a number: {value!r}")


def _eval_scalar(node: Node, values: Mapping[str, float]) -> float:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Code):
        return values[node.name]
    if isinstance(node, Negate):
        return -_eval_scalar(node.operand, values)
    left = _eval_scalar(node.left, values)
    right = _eval_scalar(node.right, values)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        raise _DivisionByZero
    return left / right


def _eval_array(node: Node, columns: Mapping[str, np.ndarray], zero_division: np.ndarray, size: int) -> np.ndarray:
    """Evaluate on float64 arrays; rows dividing by zero are flagged in ``zero_division``."""
    if isinstance(node, Number):
        return np.full(size, node.value, dtype=np.float64)
    if isinstance(node, Code):
        return columns[node.name]
    if isinstance(node, Negate):
        return np.negative(_eval_array(node.operand, columns, zero_division, size))
    left = _eval_array(node.left, columns, zero_division, size)
    right = _eval_array(node.right, columns, zero_division, size)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    zero = right == 0
    zero_division |= zero
    return np.divide(left, np.where(zero, np.nan, right))


def _column_as_float(series: pd.Series) -> np.ndarray:
    if not pd.api.types.is_float_dtype(series.dtype) or not isinstance(series.dtype, np.dtype):
        series = pd.to_numeric(series, errors="raise")
    array = series.to_numpy(dtype=np.float64, na_value=np.nan)
    # Infinite inputs are treated as missing, like in the scalar path.
    return np.where(np.isfinite(array), array, np.nan)


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula. Build it with :func:`parse_formula` or :func:`validate_formula`."""

    text: str
    root: Node = field(repr=False)
    codes_in_order: tuple[str, ...] = field(repr=False)

    @property
    def codes(self) -> frozenset[str]:
        """The data item codes the formula refers to."""
        return frozenset(self.codes_in_order)

    def evaluate(self, values: Mapping[str, object]) -> tuple[float | None, str | None]:
        """Evaluate for one municipality and period.

        ``values`` maps codes to numbers (float, int, Decimal); ``None``, NaN, infinity or an
        absent key mean the input is missing. Returns ``(value, None)`` or ``(None, reason)``.
        """
        inputs: dict[str, float] = {}
        for code in self.codes_in_order:
            number = _as_float(code, values.get(code))
            if number is None:
                return None, missing_reason(code)
            inputs[code] = number
        try:
            result = _eval_scalar(self.root, inputs)
        except _DivisionByZero:
            return None, REASON_DIV_ZERO
        if not math.isfinite(result):
            return None, REASON_NOT_FINITE
        return result, None

    def evaluate_frame(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """Evaluate for many rows at once (vectorised; same results as :meth:`evaluate`).

        ``df`` has one column per data item code (numbers; NaN/None = missing) and one row per
        municipality and period. A referenced code without a column is missing in every row.
        Returns ``(values, reasons)``, both indexed like ``df``: ``values`` is float64 with NaN
        where the result is undefined; ``reasons`` is object dtype holding the reason string or
        ``None``.
        """
        size = len(df)
        columns: dict[str, np.ndarray] = {}
        missing_code = np.full(size, -1, dtype=np.int64)  # index into codes_in_order
        # Walk backwards so the first missing code in formula order wins.
        for position in range(len(self.codes_in_order) - 1, -1, -1):
            code = self.codes_in_order[position]
            if code in df.columns:
                column = df[code]
                if isinstance(column, pd.DataFrame):
                    raise ValueError(f"duplicate column for data item code {code!r}")
                array = _column_as_float(column)
            else:
                array = np.full(size, np.nan, dtype=np.float64)
            columns[code] = array
            missing_code[np.isnan(array)] = position
        missing = missing_code >= 0

        zero_division = np.zeros(size, dtype=bool)
        with np.errstate(all="ignore"):
            result = np.array(_eval_array(self.root, columns, zero_division, size), dtype=np.float64, copy=True)
        zero_division &= ~missing
        not_finite = ~np.isfinite(result) & ~missing & ~zero_division
        result[missing | zero_division | not_finite] = np.nan

        reasons = np.full(size, None, dtype=object)
        reasons[zero_division] = REASON_DIV_ZERO
        reasons[not_finite] = REASON_NOT_FINITE
        for position, code in enumerate(self.codes_in_order):
            reasons[missing_code == position] = missing_reason(code)
        return (
            pd.Series(result, index=df.index, dtype="float64", name="value"),
            pd.Series(reasons, index=df.index, dtype=object, name="reason"),
        )


def parse_formula(text: str) -> Formula:
    """Parse ``text``; raise :class:`FormulaError` (with the position) when it is not valid."""
    if not isinstance(text, str):
        raise FormulaError("a formula must be text")
    tokens = _tokenize(text)
    if tokens[0].kind == "end":
        raise FormulaError("empty formula")
    root = _Parser(tokens).parse()
    return Formula(text=text, root=root, codes_in_order=_codes_in_order(root))


def validate_formula(text: str, known_codes: Iterable[str]) -> Formula:
    """Parse ``text`` and check that every code it uses is in ``known_codes``."""
    formula = parse_formula(text)
    known = set(known_codes)
    unknown = [code for code in formula.codes_in_order if code not in known]
    if unknown:
        raise FormulaError(f"unknown data item code(s): {', '.join(unknown)}")
    return formula

"""Tests of indicator formulas: parsing, validation and evaluation (no database)."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.formula import (
    MAX_NESTING,
    REASON_DIV_ZERO,
    REASON_MISSING,
    REASON_NOT_FINITE,
    Formula,
    FormulaError,
    parse_formula,
    validate_formula,
)

NO_DB = settings(database=None, deadline=None)


# --- parsing -----------------------------------------------------------------------------


def test_parse_keeps_text_and_collects_codes() -> None:
    formula = parse_formula("1000 * SOCIAL_DWELLINGS / POPULATION")
    assert isinstance(formula, Formula)
    assert formula.text == "1000 * SOCIAL_DWELLINGS / POPULATION"
    assert formula.codes == frozenset({"SOCIAL_DWELLINGS", "POPULATION"})
    assert formula.codes_in_order == ("SOCIAL_DWELLINGS", "POPULATION")


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("POP_2026", {"POP_2026"}),
        ("_private + x1", {"_private", "x1"}),
        ("C19.A / C19.B", {"C19.A", "C19.B"}),
        ("A + A * A", {"A"}),
        ("pop + POP", {"pop", "POP"}),  # codes are case-sensitive
        ("42", set()),
        ("\tA\n+\r\nB ", {"A", "B"}),
    ],
)
def test_codes(text: str, codes: set[str]) -> None:
    assert parse_formula(text).codes == frozenset(codes)


def test_codes_in_order_is_order_of_first_appearance() -> None:
    assert parse_formula("(C - A) * (B + C) / A").codes_in_order == ("C", "A", "B")


def test_formula_error_is_a_value_error() -> None:
    assert issubclass(FormulaError, ValueError)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_formula(text: str) -> None:
    with pytest.raises(FormulaError, match=r"^empty formula$"):
        parse_formula(text)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("(A + B))", "unexpected ')' at position 8", 8),
        ("A +", "unexpected end of formula at position 4", 4),
        ("(A + B", "unexpected end of formula at position 7", 7),
        ("A B", "unexpected 'B' at position 3", 3),
        ("2A", "unexpected 'A' at position 2", 2),
        ("A * * B", "unexpected '*' at position 5", 5),
        ("+A", "unexpected '+' at position 1", 1),
        ("A ** 2", "unexpected '*' at position 4", 4),
        ("()", "unexpected ')' at position 2", 2),
        ("A % B", "unexpected character '%' at position 3", 3),
        ("1,5 * A", "unexpected character ',' at position 2", 2),
        ("1..2", "unexpected character '.' at position 2", 2),
        (".5 * A", "unexpected character '.' at position 1", 1),
        ("A / 2.", "unexpected character '.' at position 6", 6),
        ("1e3", "unexpected 'e3' at position 2", 2),
        ("A ≤ B", "unexpected character '≤' at position 3", 3),
    ],
)
def test_syntax_errors_name_the_position(text: str, message: str, position: int) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert str(caught.value).startswith(message)
    assert caught.value.position == position
    assert caught.value.offset == position - 1


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__ ( os )",
        "os.system('rm -rf /')",
        "os.system(A)",
        "A.__class__.__bases__[0]",
        "(lambda: 1)()",
        "[x for x in A]",
        "A if B else C",
        "A; B",
        "A == B",
        "A = 1",
        "print(A)",
        "open(A).read()",
        "'A'",
        '"A"',
        "A # comment",
        "`A`",
        "{A}",
        "A @ B",
        "A ** 1000",
        "not A",
        "A\\nB",
    ],
)
def test_python_code_is_a_syntax_error(text: str) -> None:
    with pytest.raises(FormulaError, match="at position"):
        parse_formula(text)


def test_python_names_are_only_codes_to_look_up() -> None:
    formula = parse_formula("exec + __import__ * eval")
    assert formula.codes == {"exec", "__import__", "eval"}
    assert formula.evaluate({"exec": 1.0, "__import__": 2.0, "eval": 3.0}) == (7.0, None)
    with pytest.raises(FormulaError, match="unknown data item code"):
        validate_formula("__import__", ["A"])


def test_import_call_is_a_syntax_error_at_the_call() -> None:
    with pytest.raises(FormulaError, match=r"unexpected '\(' at position 12"):
        parse_formula("__import__ (os)")
    with pytest.raises(FormulaError, match="at position 12"):
        parse_formula("__import__('os')")


def test_deep_nesting_is_a_formula_error_not_a_crash() -> None:
    parse_formula("(" * MAX_NESTING + "A" + ")" * MAX_NESTING)
    parse_formula("-" * MAX_NESTING + "A")
    for text in (
        "(" * (MAX_NESTING + 1) + "A" + ")" * (MAX_NESTING + 1),
        "(" * 100_000,
        "-" * 100_000 + "A",
        " + ".join(["A"] * 100_000),
        " * ".join(["A"] * 100_000),
    ):
        with pytest.raises(FormulaError, match="nested too deeply"):
            parse_formula(text)


def test_non_text_is_rejected() -> None:
    with pytest.raises(FormulaError):
        parse_formula(None)  # type: ignore[arg-type]


# --- validation ----------------------------------------------------------------------------


def test_validate_accepts_known_codes() -> None:
    formula = validate_formula("A / B", ["A", "B", "C"])
    assert formula.codes == {"A", "B"}
    assert validate_formula("2 * 3", []).codes == frozenset()


def test_validate_names_unknown_codes_in_formula_order() -> None:
    with pytest.raises(FormulaError) as caught:
        validate_formula("Y + A * X / Y", iter(["A", "B"]))
    assert str(caught.value) == "unknown data item code(s): Y, X"
    assert caught.value.position is None


def test_validate_reports_syntax_errors_first() -> None:
    with pytest.raises(FormulaError, match="unexpected end of formula"):
        validate_formula("UNKNOWN +", ["A"])


# --- scalar evaluation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 + 3 * 4", 14.0),
        ("(2 + 3) * 4", 20.0),
        ("2 * 3 + 4", 10.0),
        ("10 - 4 - 3", 3.0),
        ("10 - (4 - 3)", 9.0),
        ("24 / 4 / 2", 3.0),
        ("24 / (4 / 2)", 12.0),
        ("1 + 6 / 2 * 3", 10.0),
        ("-2 * 3", -6.0),
        ("2 * -3", -6.0),
        ("2 - -3", 5.0),
        ("--2", 2.0),
        ("-(2 + 3)", -5.0),
        ("-2 - 3", -5.0),
        ("-A + B", 1.0),
        ("-(A + B)", -5.0),
        ("1000 * A / B", 2000.0 / 3.0),
        ("2.5 * A", 5.0),
        ("0.1 + 0.2", 0.1 + 0.2),
        ("007", 7.0),
        ("A - B * -A", 8.0),
    ],
)
def test_precedence_and_unary_minus(text: str, expected: float) -> None:
    assert parse_formula(text).evaluate({"A": 2.0, "B": 3.0}) == (expected, None)


def test_result_for_social_dwellings() -> None:
    formula = parse_formula("1000 * SOCIAL_DWELLINGS / POPULATION")
    value, reason = formula.evaluate({"SOCIAL_DWELLINGS": 120, "POPULATION": 8000})
    assert value == 15.0
    assert reason is None


def test_accepts_int_decimal_and_numpy_inputs() -> None:
    formula = parse_formula("A + B + C")
    value, reason = formula.evaluate({"A": 1, "B": Decimal("2.25"), "C": np.float32(0.5)})
    assert (value, reason) == (3.75, None)


def test_division_by_zero() -> None:
    assert parse_formula("A / B").evaluate({"A": 1.0, "B": 0.0}) == (None, REASON_DIV_ZERO)
    assert parse_formula("A / B").evaluate({"A": 0.0, "B": -0.0}) == (None, REASON_DIV_ZERO)
    assert parse_formula("A / (B - C)").evaluate({"A": 1, "B": 5, "C": 5}) == (
        None,
        "division by zero",
    )
    assert parse_formula("A / 0").evaluate({"A": 1}) == (None, REASON_DIV_ZERO)
    # A zero numerator is fine.
    assert parse_formula("A / B").evaluate({"A": 0.0, "B": 4.0}) == (0.0, None)


@pytest.mark.parametrize(
    "values",
    [
        {"B": 2.0},
        {"A": None, "B": 2.0},
        {"A": float("nan"), "B": 2.0},
        {"A": math.inf, "B": 2.0},
        {"A": pd.NA, "B": 2.0},
    ],
)
def test_missing_input(values: dict[str, object]) -> None:
    assert parse_formula("A * B").evaluate(values) == (None, "missing input: A")


def test_missing_input_names_the_first_missing_code_in_formula_order() -> None:
    formula = parse_formula("C + B * A")
    assert formula.evaluate({}) == (None, f"{REASON_MISSING}: C")
    assert formula.evaluate({"C": 1.0}) == (None, "missing input: B")
    assert formula.evaluate({"C": 1.0, "B": 1.0}) == (None, "missing input: A")


def test_missing_input_wins_over_division_by_zero() -> None:
    # The denominator is zero, but the numerator is missing: report the missing input.
    assert parse_formula("B / A").evaluate({"A": 0.0}) == (None, "missing input: B")


def test_overflow_is_not_a_finite_result() -> None:
    formula = parse_formula("A * A")
    assert formula.evaluate({"A": 1e200}) == (None, REASON_NOT_FINITE)


def test_non_numeric_input_is_an_error() -> None:
    with pytest.raises(TypeError, match="'A'"):
        parse_formula("A + 1").evaluate({"A": "12"})


# --- vectorised evaluation -----------------------------------------------------------------


def test_evaluate_frame_reasons_and_index() -> None:
    formula = parse_formula("1000 * SOCIAL / POP")
    df = pd.DataFrame(
        {
            "SOCIAL": [120.0, np.nan, 5.0, 1.0, np.nan, 1e308],
            "POP": [8000.0, 100.0, 0.0, np.nan, 0.0, 1e-10],
        },
        index=pd.Index(["LV1", "LV2", "LV3", "LV4", "LV5", "LV6"], name="municipality"),
    )
    values, reasons = formula.evaluate_frame(df)
    assert values.index.equals(df.index)
    assert reasons.index.equals(df.index)
    assert values.dtype == np.float64
    assert reasons.dtype == object
    assert values.iloc[0] == 15.0
    assert values.iloc[1:].isna().all()
    assert reasons.tolist() == [
        None,
        "missing input: SOCIAL",
        "division by zero",
        "missing input: POP",
        "missing input: SOCIAL",
        "result is not a finite number",
    ]


def test_evaluate_frame_missing_column_means_missing_everywhere() -> None:
    formula = parse_formula("A + B")
    values, reasons = formula.evaluate_frame(pd.DataFrame({"A": [1.0, 2.0]}))
    assert values.isna().all()
    assert reasons.tolist() == ["missing input: B", "missing input: B"]


def test_evaluate_frame_accepts_nullable_and_decimal_columns() -> None:
    formula = parse_formula("A - B")
    df = pd.DataFrame(
        {
            "A": pd.array([1.5, None, 3.0], dtype="Float64"),
            "B": pd.Series([Decimal("0.5"), Decimal("1"), None], dtype=object),
        }
    )
    values, reasons = formula.evaluate_frame(df)
    assert values.iloc[0] == 1.0
    assert reasons.tolist() == [None, "missing input: A", "missing input: B"]


def test_evaluate_frame_does_not_modify_the_input() -> None:
    df = pd.DataFrame({"A": [1.0, 0.0, np.inf]})
    original = df.copy()
    values, _ = parse_formula("A").evaluate_frame(df)
    values.iloc[0] = 99.0
    pd.testing.assert_frame_equal(df, original)


def test_evaluate_frame_of_a_constant_and_of_no_rows() -> None:
    values, reasons = parse_formula("2 * 3").evaluate_frame(pd.DataFrame(index=range(3)))
    assert values.tolist() == [6.0, 6.0, 6.0]
    assert reasons.tolist() == [None, None, None]
    values, reasons = parse_formula("A / B").evaluate_frame(pd.DataFrame({"A": [], "B": []}))
    assert len(values) == len(reasons) == 0


# --- property tests ------------------------------------------------------------------------

CODES = ("A", "B", "C", "D_1")

# An expression strategy that carries its own oracle: the text and a Python function computing
# the same value. The oracle raises ZeroDivisionError like plain Python, so it is independent of
# the module's own evaluator.
Oracle = Callable[[dict[str, float]], float]

_leaves = st.one_of(
    st.sampled_from(CODES).map(lambda code: (code, lambda v, c=code: v[c])),
    st.sampled_from(["0", "1", "2", "2.5", "1000", "0.1"]).map(lambda text: (text, lambda v, x=float(text): x)),
)


def _extend(children: st.SearchStrategy[tuple[str, Oracle]]) -> st.SearchStrategy:
    def binary(op: str) -> st.SearchStrategy:
        functions = {
            "+": lambda a, b: a + b,
            "-": lambda a, b: a - b,
            "*": lambda a, b: a * b,
            "/": lambda a, b: a / b,
        }
        return st.tuples(children, children).map(
            lambda pair: (
                f"({pair[0][0]} {op} {pair[1][0]})",
                lambda v, left=pair[0][1], right=pair[1][1], f=functions[op]: f(left(v), right(v)),
            )
        )

    negate = children.map(lambda child: (f"-{child[0]}", lambda v, f=child[1]: -f(v)))
    return st.one_of(binary("+"), binary("-"), binary("*"), binary("/"), negate)


expressions = st.recursive(_leaves, _extend, max_leaves=12)
cell_values = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, np.nan]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.none(),
)


@NO_DB
@given(expression=expressions, data=st.data())
def test_scalar_evaluation_matches_an_independent_oracle(expression: tuple[str, Oracle], data: st.DataObject) -> None:
    text, oracle = expression
    formula = parse_formula(text)
    values = {code: data.draw(cell_values) for code in CODES}
    value, reason = formula.evaluate(values)
    missing = [code for code in formula.codes_in_order if values[code] is None or np.isnan(values[code])]
    if missing:
        assert (value, reason) == (None, f"missing input: {missing[0]}")
        return
    try:
        expected = oracle(values)  # type: ignore[arg-type]
    except ZeroDivisionError:
        assert (value, reason) == (None, REASON_DIV_ZERO)
        return
    if math.isfinite(expected):
        assert (value, reason) == (expected, None)
    else:
        assert (value, reason) == (None, REASON_NOT_FINITE)


@NO_DB
@given(
    expression=expressions,
    rows=st.lists(st.tuples(*[cell_values] * len(CODES)), min_size=0, max_size=30),
    drop=st.sets(st.sampled_from(CODES), max_size=1),
)
def test_vectorised_evaluation_equals_scalar_evaluation(
    expression: tuple[str, Oracle], rows: list[tuple[float | None, ...]], drop: set[str]
) -> None:
    formula = parse_formula(expression[0])
    df = pd.DataFrame(rows, columns=list(CODES), dtype=float).drop(columns=list(drop))
    df.index = pd.Index([f"m{i}" for i in range(len(df))])
    values, reasons = formula.evaluate_frame(df)
    for label, row in df.iterrows():
        expected_value, expected_reason = formula.evaluate(row.to_dict())
        assert reasons[label] == expected_reason
        if expected_value is None:
            assert np.isnan(values[label])
        else:
            assert values[label] == expected_value


def test_vectorised_evaluation_equals_scalar_on_random_data() -> None:
    rng = np.random.default_rng(2026)
    formula = parse_formula("1000 * (A - B) / (C + -D_1) - A * 0.5 / (B - 2)")
    data = rng.integers(-3, 4, size=(5000, 4)).astype(float)
    data[rng.random(data.shape) < 0.1] = np.nan
    df = pd.DataFrame(data, columns=list(CODES))
    values, reasons = formula.evaluate_frame(df)
    for i in range(len(df)):
        expected_value, expected_reason = formula.evaluate(df.iloc[i].to_dict())
        assert reasons.iloc[i] == expected_reason
        assert (np.isnan(values.iloc[i]) and expected_value is None) or (values.iloc[i] == expected_value)
    assert set(reasons.dropna()) >= {REASON_DIV_ZERO, "missing input: A", "missing input: D_1"}

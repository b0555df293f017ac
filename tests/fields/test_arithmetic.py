"""The arithmetic fast path of calculated fields gives what the ``formulas`` library gives."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.fields.arithmetic import compile_arithmetic
from leadbase.fields.formulas import CompiledFormula, FormulaError, compile_formula

REFS = frozenset({"A", "B", "CANTIDAD"})


def _library(expression: str) -> CompiledFormula:
    formula = CompiledFormula(expression)
    formula._arithmetic = None  # force the library path
    return formula


def _outcome(formula: CompiledFormula, values: dict[str, object]) -> object:
    try:
        return ("value", formula.evaluate(values))
    except FormulaError as exc:
        return ("error", exc.code, str(exc))


def test_what_takes_the_fast_path() -> None:
    assert compile_formula("Cantidad * Precio")._arithmetic is not None
    assert compile_arithmetic("=(A + 2.5) * -B / A", REFS) is not None
    for expression in ("A", "(A)", "+A", "-A", "--A", "A^2", "10%", "A&B", "SUM(A,B)",
                       "IF(A>1,2,3)", "A>B", '"x"*2', "TRUE*A", "A*1E3", "A B", "Hoja1!A*2",
                       "$A$1*2", "A:B", "C*2", "A*", "(A+B", "A+B)", "1.2.3*A", "A.B*2"):
        assert compile_arithmetic(expression, REFS) is None, expression


def test_fast_path_examples() -> None:
    f = compile_formula("Cantidad * Precio")
    assert f.evaluate({"Cantidad": 3, "Precio": Decimal("4.5")}) == 13.5
    assert f.evaluate({"Cantidad": 3}) == 0  # a blank is 0
    assert f.evaluate({"cantidad": 2, "PRECIO": 0.1}) == 0.2  # codes in any case
    assert compile_formula("A-B").evaluate({"A": 10**16, "B": 1}) == 10**16  # 15 digits
    for values, code in (({"A": 1, "B": 0}, "#DIV/0!"), ({"A": 1e308, "B": 1e-308}, "#NUM!")):
        try:
            compile_formula("A/B").evaluate(values)
        except FormulaError as exc:
            assert exc.references == (code,)
        else:
            raise AssertionError(values)
    # Text, booleans and dates are converted by the library as Excel does.
    assert compile_formula("A*B").evaluate({"A": "3", "B": 2}) == 6
    assert compile_formula("A*B").evaluate({"A": True, "B": 2}) == 2


def _expressions() -> st.SearchStrategy[str]:
    leaf = st.one_of(st.sampled_from(["A", "B", "a", "Cantidad"]),
                     st.integers(0, 1000).map(str),
                     st.tuples(st.integers(0, 99), st.integers(0, 99)).map(
                         lambda t: f"{t[0]}.{t[1]:02d}"))

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(children, st.sampled_from(["+", "-", "*", "/", " * ", " - "]),
                      children).map("".join),
            st.tuples(st.sampled_from(["-", "+"]), children).map("".join),
            children.map(lambda c: f"({c})"),
        )

    return st.recursive(leaf, extend, max_leaves=8)


_numbers = st.one_of(
    st.none(), st.just(""),
    st.integers(-(2**53), 2**53),
    st.decimals(min_value=-(10**17), max_value=10**17, places=4, allow_nan=False),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)


@settings(max_examples=400, deadline=None)
@given(_expressions(), _numbers, _numbers, _numbers)
def test_fast_path_matches_the_library(expression: str, a: object, b: object,
                                       c: object) -> None:
    try:
        library = _library(expression)
    except FormulaError:
        return  # refused when defined: never evaluated
    fast = compile_formula(expression)
    values = {"A": a, "B": b, "Cantidad": c}
    assert _outcome(fast, values) == _outcome(library, values), (expression, values)

"""Calculated fields: compiling, evaluating and validating Excel expressions."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import uuid
from decimal import Decimal

import pytest

from leadbase.fields import formulas as F
from leadbase.fields.formulas import (
    FORMULA_AMBIGUOUS_REFERENCE,
    FORMULA_CYCLE,
    FORMULA_EVALUATION,
    FORMULA_SELF_REFERENCE,
    FORMULA_SYNTAX,
    FORMULA_UNKNOWN_REFERENCE,
    FormulaError,
    ambiguous_codes,
    check_definitions,
    compile_formula,
    evaluate_all,
    from_excel_serial,
    references,
    to_excel_serial,
)

PLAIN = (int, float, str, bool)


def ev(expression: str, **values: object) -> object:
    return compile_formula(expression).evaluate(values)


# --- the examples of the issue -----------------------------------------------------------


def test_quantity_times_price() -> None:
    assert ev("Cantidad * Precio", Cantidad=3, Precio=4.5) == 13.5


@pytest.mark.parametrize(("edad", "expected"), [(20, "adulto"), (10, "menor"), (18, "adulto")])
def test_if_adult(edad: int, expected: str) -> None:
    assert ev('IF(Edad>=18,"adulto","menor")', Edad=edad) == expected


def test_round_with_vat() -> None:
    assert ev("ROUND(Precio*1.21,2)", Precio=10.333) == 12.5


def test_concatenation_matches_arguments_by_name_not_position() -> None:
    # formulas passes its inputs sorted (APELLIDO before NOMBRE), not in order of appearance.
    assert ev('Nombre&" "&Apellido', Nombre="Ana", Apellido="López") == "Ana López"
    assert ev('Apellido&", "&Nombre', Nombre="Ana", Apellido="López") == "López, Ana"
    assert ev("Zeta-Alfa", Alfa=1, Zeta=10) == 9


def test_leading_equals_sign_is_optional() -> None:
    assert ev("=Cantidad * Precio", Cantidad=3, Precio=4.5) == 13.5
    assert ev('  =IF(Edad >= 18, "adulto", "menor")  ', Edad=30) == "adulto"


# --- blanks and input values -------------------------------------------------------------


def test_blank_number_is_zero_like_excel() -> None:
    assert ev("Cantidad*Precio", Cantidad=None, Precio=4.5) == 0
    assert ev("Cantidad*Precio", Precio=4.5) == 0  # missing key: blank too
    assert ev("Cantidad+Precio", Cantidad="", Precio=2) == 2  # empty text: blank


def test_blank_text_concatenates_as_nothing() -> None:
    assert ev('Nombre&" "&Apellido', Nombre=None, Apellido=None) == " "
    assert ev('Nombre&" "&Apellido', Nombre="Ana") == "Ana "


def test_blank_is_blank_and_bare_reference_to_blank_is_none() -> None:
    assert ev("ISBLANK(Nota)", Nota=None) is True
    assert ev("ISBLANK(Nota)", Nota="") is True
    assert ev("ISBLANK(Nota)", Nota="x") is False
    assert ev("Nota", Nota=None) is None


def test_codes_are_case_insensitive() -> None:
    assert ev("cantidad * PRECIO", CANTIDAD=3, precio=4.5) == 13.5
    assert compile_formula("Precio_Unitario*2").evaluate({"precio_unitario": 4}) == 8


def test_same_code_twice_in_different_case_with_different_values_is_refused() -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula("Precio*2").evaluate({"Precio": 1, "precio": 2})
    assert info.value.code == FORMULA_EVALUATION


def test_booleans_decimals_lists_and_uuids() -> None:
    assert ev('IF(Activo,"sí","no")', Activo=True) == "sí"
    assert ev("Activo*10", Activo=False) == 0
    assert ev("Precio*2", Precio=Decimal("10.25")) == 20.5
    assert ev('Etiquetas&""', Etiquetas=["a", "b"]) == "a, b"
    assert ev("ISBLANK(Etiquetas)", Etiquetas=[]) is True
    lead = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert ev("LEN(Contacto)", Contacto=lead) == 36


def test_unsupported_value_type_names_the_field() -> None:
    with pytest.raises(FormulaError) as info:
        ev("Datos&1", Datos={"a": 1})
    assert info.value.code == FORMULA_EVALUATION
    assert "'Datos'" in str(info.value)


# --- results -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("A*0.1", {"A": 121}, 12.1),  # not 12.100000000000001
        ("A+B", {"A": 0.1, "B": 0.2}, 0.3),
        ("A*2", {"A": 2.5}, 5),
        ("MOD(A,2)", {"A": 5}, 1),
        ("AVERAGE(A,B)", {"A": 1, "B": 2}, 1.5),
        ("ABS(A)", {"A": -3}, 3),
        ("ISNUMBER(A)", {"A": 1}, True),
        ("AND(A,B)", {"A": True, "B": True}, True),
        ("A>=B", {"A": 1, "B": 2}, False),
        ("LEN(A)", {"A": "hola"}, 4),
        ("UPPER(A)", {"A": "hola"}, "HOLA"),
        ('TEXT(A,"0.00")', {"A": 3.14159}, "3.14"),
        ("A", {"A": 7}, 7),
        ("A", {"A": "x"}, "x"),
        ("SUM(A,B,1)", {"A": 1, "B": 2}, 4),
        ('IFERROR(1/A,"sin dato")', {"A": 0}, "sin dato"),
        ('SWITCH(A,1,"uno","otro")', {"A": 1}, "uno"),
        ("LET(x,2,x*A)", {"A": 3}, 6),
    ],
)
def test_results_are_plain_python(expression: str, values: dict[str, object],
                                  expected: object) -> None:
    result = compile_formula(expression).evaluate(values)
    assert type(result) in PLAIN
    assert result == expected
    assert type(result) is type(expected)


def test_integral_numbers_become_int() -> None:
    assert type(ev("Cantidad*Precio", Cantidad=2, Precio=4.5)) is int


@pytest.mark.parametrize(
    ("expression", "values", "error"),
    [
        ("Cantidad/Precio", {"Cantidad": 1, "Precio": 0}, "#DIV/0!"),
        ("Cantidad/Precio", {"Cantidad": 1}, "#DIV/0!"),
        ("A*2", {"A": "abc"}, "#VALUE!"),
        ("SQRT(A)", {"A": -1}, "#NUM!"),
        ("NA()", {}, "#N/A"),
    ],
)
def test_excel_errors_raise(expression: str, values: dict[str, object], error: str) -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula(expression).evaluate(values)
    assert info.value.code == FORMULA_EVALUATION
    assert error in str(info.value)
    assert info.value.references == (error,)
    assert isinstance(info.value, ValueError)


def test_array_result_is_refused() -> None:
    with pytest.raises(FormulaError) as info:
        ev("{1,2}")
    assert info.value.code == FORMULA_EVALUATION


# --- dates -------------------------------------------------------------------------------


def test_excel_serial_dates() -> None:
    assert to_excel_serial(dt.date(1900, 1, 1)) == 1
    assert to_excel_serial(dt.date(1900, 2, 28)) == 59
    assert to_excel_serial(dt.date(1900, 3, 1)) == 61  # Excel's fictitious 1900-02-29 is 60
    assert to_excel_serial(dt.date(2024, 1, 31)) == 45322
    assert to_excel_serial(dt.datetime(2024, 1, 31, 12)) == 45322.5
    assert ev("DATE(2024,1,31)") == 45322  # the same convention as formulas
    assert ev("DATE(1900,2,28)") == 59
    with pytest.raises(ValueError):
        to_excel_serial(dt.date(1899, 12, 31))


def test_serial_back_to_dates() -> None:
    assert from_excel_serial(45322) == dt.date(2024, 1, 31)
    assert from_excel_serial(59) == dt.date(1900, 2, 28)
    assert from_excel_serial(61) == dt.date(1900, 3, 1)
    assert from_excel_serial(45322.75) == dt.datetime(2024, 1, 31, 18)
    for bad in (0, 60, 60.5, float("nan"), 3e6):
        with pytest.raises(ValueError):
            from_excel_serial(bad)


def test_date_functions_over_date_fields() -> None:
    assert ev("YEAR(Fecha)", Fecha=dt.date(2024, 1, 31)) == 2024
    assert ev("MONTH(Fecha)", Fecha=dt.date(2024, 1, 31)) == 1
    assert ev('DATEDIF(Nacimiento,Hoy,"y")', Nacimiento=dt.date(1990, 5, 1),
              Hoy=dt.date(2024, 4, 30)) == 33
    assert ev("Baja-Alta", Alta=dt.date(2024, 1, 1), Baja=dt.date(2024, 3, 1)) == 60
    assert ev("HOUR(Momento)", Momento=dt.datetime(2024, 1, 31, 18, 30)) == 18
    due = ev("Fecha+30", Fecha=dt.date(2024, 1, 31))
    assert isinstance(due, int)
    assert from_excel_serial(due) == dt.date(2024, 3, 1)


def test_date_before_1900_is_refused() -> None:
    with pytest.raises(FormulaError) as info:
        ev("YEAR(Fecha)", Fecha=dt.date(1899, 1, 1))
    assert info.value.code == FORMULA_EVALUATION
    assert "'Fecha'" in str(info.value)


# --- compiling ---------------------------------------------------------------------------


def test_compile_is_cached() -> None:
    first = compile_formula("Cantidad * Precio * 3")
    hits = compile_formula.cache_info().hits
    assert compile_formula("Cantidad * Precio * 3") is first
    assert compile_formula.cache_info().hits == hits + 1
    assert compile_formula.cache_info().maxsize == F.CACHE_SIZE
    assert first.expression == "Cantidad * Precio * 3"


def test_references_are_upper_cased_names() -> None:
    assert references("Cantidad * Precio") == frozenset({"CANTIDAD", "PRECIO"})
    assert references('IF(Edad>=18,"adulto","menor")') == frozenset({"EDAD"})
    assert references("precio_unitario*cantidad+Precio_Unitario") == frozenset(
        {"PRECIO_UNITARIO", "CANTIDAD"}
    )
    assert references("LET(x,2,x*A)") == frozenset({"A"})
    assert references("ROUND(1.5,0)") == frozenset()


def test_volatile_functions_are_flagged() -> None:
    assert compile_formula('DATEDIF(Nacimiento,TODAY(),"y")').volatile
    assert not compile_formula("Cantidad*2").volatile


@pytest.mark.parametrize(
    "expression",
    ["=1+", "=(Cantidad", "Cantidad)", '="abc', "", "   ", "=", "Cantidad Precio",
     "Cantidad,Precio", "Precio:Cantidad", "SUMA(Cantidad)", "Cantidad;Precio"],
)
def test_syntax_errors(expression: str) -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula(expression)
    assert info.value.code == FORMULA_SYNTAX


def test_unknown_function_is_named() -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula("FOO(Cantidad)")
    assert info.value.code == FORMULA_SYNTAX
    assert "'FOO'" in str(info.value)


def test_too_long_expression_is_refused() -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula("1+" * 5000 + "1")
    assert info.value.code == FORMULA_SYNTAX


@pytest.mark.parametrize("expression", ["A1:B2*2", "Hoja1!Precio*2", "$A$1*2", "R1C1*2"])
def test_cell_addresses_ranges_and_sheets_are_not_field_codes(expression: str) -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula(expression)
    assert info.value.code == FORMULA_UNKNOWN_REFERENCE


# --- definitions of a list ---------------------------------------------------------------


def test_ambiguous_codes() -> None:
    assert ambiguous_codes(["Precio", "Cantidad", "precio", "Total"]) == ["Precio", "precio"]
    assert ambiguous_codes(["straße", "STRASSE", "x"]) == ["STRASSE", "straße"]
    assert ambiguous_codes(["A", "B", "A"]) == []
    assert ambiguous_codes([]) == []


def test_check_definitions_accepts_and_orders() -> None:
    order = check_definitions(
        {"Total": "Subtotal*1.21", "Subtotal": "cantidad*precio", "Saludo": '"Hola "&Nombre'},
        ["Cantidad", "Precio", "Nombre"],
    )
    assert order == ["Subtotal", "Total", "Saludo"]


def test_check_definitions_unknown_reference() -> None:
    with pytest.raises(FormulaError) as info:
        check_definitions({"Total": "Cantidad*Precio2"}, ["Cantidad", "Precio", "Total"])
    error = info.value
    assert error.code == FORMULA_UNKNOWN_REFERENCE
    assert error.references == ("Precio2",)
    assert error.field == "Total"
    assert "'Precio2'" in str(error) and "'Total'" in str(error)


def test_check_definitions_syntax_error_names_the_field() -> None:
    with pytest.raises(FormulaError) as info:
        check_definitions({"Total": "Cantidad*"}, ["Cantidad"])
    assert info.value.code == FORMULA_SYNTAX
    assert info.value.field == "Total"
    assert "'Total'" in str(info.value)
    with pytest.raises(FormulaError) as info:
        check_definitions({"Total": None}, ["Cantidad"])
    assert info.value.code == FORMULA_SYNTAX


def test_check_definitions_self_reference() -> None:
    with pytest.raises(FormulaError) as info:
        check_definitions({"Total": "total+1"}, ["Total"])
    assert info.value.code == FORMULA_SELF_REFERENCE
    assert "'Total'" in str(info.value)


def test_check_definitions_three_field_cycle() -> None:
    with pytest.raises(FormulaError) as info:
        check_definitions({"A": "B+1", "B": "C+1", "C": "A+1", "D": "Base"}, ["Base"])
    assert info.value.code == FORMULA_CYCLE
    assert "A → B → C → A" in str(info.value)
    assert info.value.references == ("A", "B", "C", "A")


def test_check_definitions_cycle_reached_from_outside() -> None:
    with pytest.raises(FormulaError) as info:
        check_definitions({"X": "B*2", "B": "C+1", "C": "b-1"}, [])
    assert info.value.code == FORMULA_CYCLE
    assert "B → C → B" in str(info.value)


def test_check_definitions_ambiguous_reference() -> None:
    with pytest.raises(FormulaError) as info:
        check_definitions({"Total": "precio*2"}, ["Precio", "PRECIO"])
    assert info.value.code == FORMULA_AMBIGUOUS_REFERENCE


def test_long_chains_do_not_overflow_the_stack() -> None:
    codes = [f"F{i}" for i in range(5000)]
    uses = {code: ([codes[i + 1]] if i + 1 < len(codes) else []) for i, code in enumerate(codes)}
    assert F._evaluation_order(codes, uses) == codes[::-1]


# --- evaluating a lead -------------------------------------------------------------------


def test_evaluate_all_chain_in_order() -> None:
    expressions = {"A": "b*2", "B": "C+1", "C": "Base*10"}
    order = check_definitions(expressions, ["Base", "A", "B", "C"])
    assert order == ["C", "B", "A"]
    values: dict[str, object] = {"Base": 1, "c": 999, "B": 5}  # stale calculated values
    assert evaluate_all(order, expressions, values) == {"C": 10, "B": 11, "A": 22}
    assert values == {"Base": 1, "c": 999, "B": 5}


def test_evaluate_all_raises_with_the_field() -> None:
    expressions = {"Ratio": "Ventas/Visitas"}
    with pytest.raises(FormulaError) as info:
        evaluate_all(["Ratio"], expressions, {"Ventas": 3, "Visitas": 0})
    assert info.value.code == FORMULA_EVALUATION
    assert info.value.field == "Ratio"
    assert "'Ratio'" in str(info.value) and "#DIV/0!" in str(info.value)


def test_evaluate_all_collects_errors_and_blanks_dependants() -> None:
    expressions = {"Ratio": "Ventas/Visitas", "Pct": "Ratio*100", "Otro": "Ventas+1"}
    order = check_definitions(expressions, ["Ventas", "Visitas"])
    errors: dict[str, FormulaError] = {}
    results = evaluate_all(order, expressions, {"Ventas": 3, "Visitas": 0}, errors=errors)
    assert results == {"Ratio": None, "Pct": None, "Otro": 4}
    assert set(errors) == {"Ratio", "Pct"}
    assert errors["Pct"].references == ("Ratio",)
    assert all(error.code == FORMULA_EVALUATION for error in errors.values())


def test_concurrent_evaluation_of_one_formula() -> None:
    compiled = compile_formula("Cantidad*Precio+0")
    failures: list[tuple[int, object]] = []

    def work(n: int) -> None:
        for _ in range(20):
            result = compiled.evaluate({"Cantidad": n, "Precio": 2})
            if result != 2 * n:
                failures.append((n, result))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_importing_the_module_does_not_import_formulas() -> None:
    code = (
        "import sys, leadbase.fields.formulas; "
        "print(sorted({'formulas', 'numpy', 'schedula'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"

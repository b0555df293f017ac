"""Calculated fields: Excel expressions over the other fields of the same lead.

A CALCULATED field holds an Excel expression (``Cantidad * Precio``,
``IF(Edad>=18,"adulto","menor")``, ``Nombre&" "&Apellido``; the leading ``=`` is optional)
that refers to the lead's other fields by ``code``. The engine uses this module in two
places:

* **When fields are defined**, :func:`check_definitions` validates every calculated field of
  a list at once (syntax, unknown functions, unknown references, self-references, cycles)
  and returns the order to evaluate them in (dependencies first). Codes that differ only by
  case collide in a formula; :func:`ambiguous_codes` finds them so the engine can refuse them.
* **On every write**, :func:`evaluate_all` recomputes the calculated fields in that order,
  feeding each result to the later ones; the results are stored like any other value so they
  can be filtered and sorted. (A value sent by a client for a calculated field is refused by
  the engine with 422; here a stale stored value is simply recomputed.)

Design:

* Evaluation is done by the ``formulas`` library. Importing it (with numpy and schedula)
  costs about 1.5 s, so it is imported lazily inside functions: the server's start-up and
  requests that touch no calculated field never pay for it.
* :func:`compile_formula` parses and compiles an expression once and keeps the result in a
  bounded LRU cache keyed by the expression text; a :class:`CompiledFormula` is immutable
  apart from a lock (a compiled ``formulas`` function keeps per-call state, so calls on one
  object are serialised).
* ``formulas`` upper-cases names and passes a compiled function's inputs in **sorted**
  order, not in order of appearance, so arguments are always matched by name. Field codes
  are therefore matched case-insensitively (``str.upper``, as ``formulas`` does).
* Only plain names may be referenced: ranges (``A1:B2``), sheets (``Hoja1!X``), ``$A$1`` and
  R1C1 addresses, the union (``,``) and intersection (space) operators and unknown functions
  are refused when the field is defined, not discovered on the first write.

Values passed in (:meth:`CompiledFormula.evaluate`):

* ``None``, a missing key and ``""`` are Excel's *blank*: ``Cantidad*Precio`` with a blank
  gives 0 and ``Nombre&" "&Apellido`` with two blanks gives ``" "``, as in Excel.
* ``bool`` stays a logical value; ``int``, ``float`` and ``Decimal`` become numbers (Excel
  numbers are binary doubles, so a ``Decimal`` is converted with ``float``).
* ``datetime.date`` and ``datetime.datetime`` become Excel **serial date numbers** in the
  1900 system: whole days since 1899-12-30 (1 = 1900-01-01, 45322 = 2024-01-31), with the
  time of day as the fraction (noon = .5). Like Excel, serials below 61 include the
  fictitious 1900-02-29, and dates before 1900-01-01 are refused. An aware datetime is used
  at its own wall-clock time (convert it to the workspace's zone first). So ``YEAR(Fecha)``,
  ``DATEDIF(Alta,Baja,"d")`` and ``Fecha+30`` work; see :func:`to_excel_serial` and
  :func:`from_excel_serial`. Dates stored as ISO text must be parsed by the caller first.
* ``str`` stays text; a ``uuid.UUID`` (a LEAD field) becomes its text; a list or tuple (a
  multiple selector or checkbox) becomes its items joined by ``", "`` (empty: blank).
  Anything else is refused with ``FORMULA_EVALUATION``.

Results:

* Numbers come back as Python ``int`` when integral (``13.0`` -> ``13``) and ``float``
  otherwise, rounded to **15 significant digits**, the precision Excel shows, so binary
  noise disappears (``121*0.1`` -> ``12.1``, not ``12.100000000000001``) without losing any
  digit a user could have typed. Logical values come back as ``bool``, text as ``str``; a
  formula that is just a reference to a blank field gives ``None``. numpy types never leak.
* An Excel error (``#DIV/0!``, ``#VALUE!``, ``#N/A``, ``#NAME?``, ``#REF!``, ``#NUM!``,
  ``#NULL!``), an infinite or NaN number, or an array of more than one value raises
  :class:`FormulaError` with code ``FORMULA_EVALUATION`` naming the error.

Volatile functions (``TODAY``, ``NOW``, ``RAND``...) are allowed but only recomputed when the
lead is written; :attr:`CompiledFormula.volatile` tells the engine which formulas use them.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from leadbase.fields.arithmetic import compile_arithmetic

FORMULA_SYNTAX: Final = "FORMULA_SYNTAX"
FORMULA_UNKNOWN_REFERENCE: Final = "FORMULA_UNKNOWN_REFERENCE"
FORMULA_AMBIGUOUS_REFERENCE: Final = "FORMULA_AMBIGUOUS_REFERENCE"
FORMULA_CYCLE: Final = "FORMULA_CYCLE"
FORMULA_SELF_REFERENCE: Final = "FORMULA_SELF_REFERENCE"
FORMULA_EVALUATION: Final = "FORMULA_EVALUATION"

MAX_EXPRESSION_LENGTH: Final = 8192
"""Longest expression accepted, in characters (Excel's own limit for a formula)."""

CACHE_SIZE: Final = 2048
"""How many compiled expressions :func:`compile_formula` keeps."""

VOLATILE_FUNCTIONS: Final = frozenset({"NOW", "TODAY", "RAND", "RANDBETWEEN", "RANDARRAY"})

_EXCEL_ERRORS: Final = {
    "#DIV/0!": "division by zero",
    "#VALUE!": "a value of the wrong type, such as text where a number is expected",
    "#N/A": "a value that is not available",
    "#NAME?": "an unknown name",
    "#REF!": "an invalid reference",
    "#NUM!": "an invalid number",
    "#NULL!": "an empty intersection",
}

_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)
_FIRST_DATE: Final = dt.date(1900, 1, 1)
_FIRST_TRUE_SERIAL_DATE: Final = dt.date(1900, 3, 1)  # serial 61; before it Excel is off by one
_LAST_SERIAL: Final = 2958465  # 9999-12-31


class FormulaError(ValueError):
    """A calculated field's formula was refused or could not be evaluated.

    ``str(error)`` is a complete English sentence for the user. ``code`` is one of the
    ``FORMULA_*`` constants of this module; ``references`` holds the offending field codes
    (or the cycle's path, or the Excel error), ``field`` the calculated field concerned when
    known.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        references: Sequence[str] = (),
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.references = tuple(references)
        self.field = field

    def for_field(self, field: str) -> FormulaError:
        """The same error, attributed to calculated field ``field``."""
        if self.field is not None:
            return self
        return FormulaError(
            self.code,
            f"Calculated field {field!r}: {self.message}",
            references=self.references,
            field=field,
        )


def _quote_list(names: Sequence[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def ambiguous_codes(codes: Iterable[str]) -> list[str]:
    """The codes that another code matches in a formula (same letters ignoring case).

    Formulas match codes case-insensitively (``str.upper``, as ``formulas`` does, so even
    ``"straße"`` and ``"STRASSE"`` collide). Returns every code involved, sorted, so the
    engine can refuse them; an empty list means the codes are fine.
    """
    groups: dict[str, set[str]] = {}
    for code in codes:
        groups.setdefault(code.upper(), set()).add(code)
    return sorted(code for group in groups.values() if len(group) > 1 for code in group)


# --- dates -------------------------------------------------------------------------------


def to_excel_serial(value: dt.date) -> int | float:
    """``value`` as an Excel serial date number (1900 system, see the module docstring).

    A ``date`` gives an ``int``, a ``datetime`` a ``float`` whose fraction is the time of
    day. Raises ``ValueError`` before 1900-01-01, which Excel cannot represent.
    """
    day = value.date() if isinstance(value, dt.datetime) else value
    if day < _FIRST_DATE:
        raise ValueError(f"{day.isoformat()} is before 1900-01-01, the first Excel date")
    serial = (day - _EXCEL_EPOCH).days
    if day < _FIRST_TRUE_SERIAL_DATE:
        serial -= 1  # Excel counts the non-existent 1900-02-29 as serial 60
    if isinstance(value, dt.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return serial + (seconds + value.microsecond / 1_000_000) / 86400
    return serial


def from_excel_serial(serial: float) -> dt.date | dt.datetime:
    """The date (or datetime, when ``serial`` has a fraction) of an Excel serial number.

    For calculated fields whose result is a date (``Fecha+30``, ``EDATE(Alta,12)``).
    Raises ``ValueError`` outside 1 (1900-01-01) .. 2958465 (9999-12-31) and for 60, the
    fictitious 1900-02-29.
    """
    if not math.isfinite(serial) or serial < 1 or serial >= _LAST_SERIAL + 1:
        raise ValueError(f"{serial!r} is not an Excel serial date between 1 and {_LAST_SERIAL}")
    days = math.floor(serial)
    if days == 60:
        raise ValueError("Excel serial date 60 is 1900-02-29, a day that did not exist")
    day = _EXCEL_EPOCH + dt.timedelta(days=days + 1 if days < 60 else days)
    fraction = serial - days
    if fraction == 0:
        return day
    micro = round(fraction * 86_400_000_000)
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(microseconds=micro)


# --- compilation -------------------------------------------------------------------------


def _normalise(expression: str) -> str:
    text = expression.strip()
    return text if text.startswith("=") else "=" + text


def _syntax_error(expression: str, why: str, *names: str) -> FormulaError:
    return FormulaError(
        FORMULA_SYNTAX, f"The formula {expression!r} is not valid: {why}.", references=names
    )


def _check_tokens(expression: str, tokens: Sequence[Any]) -> tuple[dict[str, str], bool]:
    """Refuse what a field formula may not use; return the references' spellings and
    whether a volatile function is used."""
    from formulas import get_functions

    functions = get_functions()
    # A defaultdict: parsing already inserted unknown names, mapped to its default.
    missing = functions.default_factory()
    spellings: dict[str, str] = {}
    volatile = False
    depth = 0
    for token in tokens:
        kind = type(token).__name__
        name = str(token.name)
        if kind == "Parenthesis":
            depth += 1 if name == "(" else -1
        elif kind == "Separator" and depth == 0:
            raise _syntax_error(expression, "a comma outside a function's parentheses")
        elif kind == "Intersect":
            raise _syntax_error(
                expression,
                "a space between two values (Excel's intersection operator); "
                "use * to multiply or & to join text",
            )
        elif kind == "Function":
            upper = name.upper()
            if functions.get(upper, missing) is missing:
                raise _syntax_error(expression, f"there is no function named {name!r}", name)
            volatile = volatile or upper in VOLATILE_FUNCTIONS
        elif kind == "OperatorToken" and name == ":":
            raise _syntax_error(expression, "a range (:); refer to single fields")
        elif kind == "Range":
            raw = str(token.source[: token.end_match]).strip()
            if not (raw.isidentifier() and raw.upper() == name):
                raise FormulaError(
                    FORMULA_UNKNOWN_REFERENCE,
                    f"The formula {expression!r} refers to {raw!r}, which is not a field code "
                    "(ranges, sheets and cell addresses are not supported).",
                    references=(raw,),
                )
            spellings.setdefault(name, raw)
    return spellings, volatile


class CompiledFormula:
    """An expression parsed and compiled once; :meth:`evaluate` runs it for one lead."""

    __slots__ = ("_arithmetic", "_func", "_inputs", "_lock", "_spellings", "expression",
                 "references", "volatile")

    expression: str
    """The expression as given."""
    references: frozenset[str]
    """The referenced field codes, upper-cased."""
    volatile: bool
    """Whether the formula uses ``TODAY``, ``NOW``, ``RAND``... (stale between writes)."""

    def __init__(self, expression: str) -> None:
        if not expression.strip():
            raise FormulaError(FORMULA_SYNTAX, "The formula is empty.")
        if len(expression) > MAX_EXPRESSION_LENGTH:
            raise FormulaError(
                FORMULA_SYNTAX,
                f"The formula is {len(expression)} characters long; "
                f"the limit is {MAX_EXPRESSION_LENGTH}.",
            )
        import formulas
        from formulas.errors import ParenthesesError

        try:
            tokens, builder = formulas.Parser().ast(_normalise(expression))
        except ParenthesesError as exc:
            raise _syntax_error(expression, "the parentheses do not match") from exc
        except Exception as exc:  # formulas raises assorted errors on bad input
            raise _syntax_error(expression, "it is not an Excel expression") from exc
        self._spellings, self.volatile = _check_tokens(expression, tokens)
        try:
            func = builder.compile()
        except Exception as exc:
            raise _syntax_error(expression, "it cannot be compiled") from exc
        self.expression = expression
        self._func: Callable[..., object] = func
        self._inputs: tuple[str, ...] = tuple(str(name) for name in func.inputs)
        self.references = frozenset(self._inputs)
        self._lock = threading.Lock()
        # Plain arithmetic on numbers skips the library (see leadbase.fields.arithmetic).
        self._arithmetic = compile_arithmetic(expression, self.references)

    def __repr__(self) -> str:
        return f"CompiledFormula({self.expression!r})"

    def spelling(self, reference: str) -> str:
        """How ``reference`` (any case) is written in the expression."""
        upper = reference.upper()
        return self._spellings.get(upper, upper)

    def evaluate(self, values: Mapping[str, object]) -> object:
        """Evaluate for one lead; ``values`` maps field codes (any case) to current values.

        Returns ``int``, ``float``, ``str``, ``bool`` or ``None`` (see the module docstring);
        raises :class:`FormulaError` (``FORMULA_EVALUATION``) on an Excel error.
        """
        found: dict[str, tuple[str, object]] = {}
        for key, value in values.items():
            upper = key.upper()
            if upper not in self.references:
                continue
            if upper in found and found[upper][1] != value:
                raise FormulaError(
                    FORMULA_EVALUATION,
                    f"The values {found[upper][0]!r} and {key!r} both match "
                    f"{self.spelling(upper)!r} in the formula {self.expression!r}.",
                    references=(found[upper][0], key),
                )
            found[upper] = (key, value)
        if self._arithmetic is not None:
            numbers = _numbers(found, self._inputs)
            if numbers is not None:
                try:
                    result = self._arithmetic(numbers)
                except ZeroDivisionError:
                    raise _excel_error(self.expression, "#DIV/0!") from None
                return _number_result(result, self.expression)
        args = [
            _to_excel(found[name][1] if name in found else None, self.spelling(name))
            for name in self._inputs
        ]
        try:
            with self._lock:
                raw = self._func(*args)
        except Exception as exc:
            raise FormulaError(
                FORMULA_EVALUATION,
                f"The formula {self.expression!r} could not be evaluated ({exc!r}).",
            ) from exc
        return _from_excel(raw, self.expression)


@functools.lru_cache(maxsize=CACHE_SIZE)
def compile_formula(expression: str) -> CompiledFormula:
    """Parse and compile ``expression`` (cached by its text); raises :class:`FormulaError`."""
    return CompiledFormula(expression)


def references(expression: str) -> frozenset[str]:
    """The field codes ``expression`` refers to, upper-cased as ``formulas`` sees them."""
    return compile_formula(expression).references


# --- value conversion --------------------------------------------------------------------


def _to_excel(value: object, name: str) -> object:
    import schedula  # type: ignore[import-untyped]

    if value is None or value == "":
        return schedula.EMPTY
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        if not math.isfinite(number):
            raise FormulaError(
                FORMULA_EVALUATION, f"The field {name!r} is not a finite number.",
                references=(name,),
            )
        return number
    if isinstance(value, dt.date):
        try:
            return to_excel_serial(value)
        except ValueError as exc:
            raise FormulaError(
                FORMULA_EVALUATION, f"The field {name!r}: {exc}.", references=(name,)
            ) from exc
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        items = [str(item) for item in value if item is not None and item != ""]
        return ", ".join(items) if items else schedula.EMPTY
    raise FormulaError(
        FORMULA_EVALUATION,
        f"The field {name!r} holds a {type(value).__name__} value, which formulas cannot use.",
        references=(name,),
    )


def _numbers(found: Mapping[str, tuple[str, object]],
             inputs: Sequence[str]) -> dict[str, float] | None:
    """The inputs as floats (blanks as 0.0) when they all are finite numbers or blanks,
    else None (the library converts text, booleans, dates and lists as Excel does)."""
    numbers: dict[str, float] = {}
    for name in inputs:
        value = found[name][1] if name in found else None
        if value is None or value == "":
            numbers[name] = 0.0
        elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            number = float(value)
            if not math.isfinite(number):
                return None
            numbers[name] = number
        else:
            return None
    return numbers


def _excel_error(expression: str, error: str) -> FormulaError:
    meaning = _EXCEL_ERRORS.get(error, "an error")
    return FormulaError(
        FORMULA_EVALUATION,
        f"The formula {expression!r} gives {error} ({meaning}).",
        references=(error,),
    )


def _number_result(value: float, expression: str) -> int | float:
    """A float result as Excel shows it: 15 significant digits, integral values as int;
    an infinite or NaN result is ``#NUM!``."""
    if not math.isfinite(value):
        raise _excel_error(expression, "#NUM!")
    value = float(f"{value:.15g}")
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _from_excel(raw: object, expression: str) -> object:
    import numpy as np
    import schedula  # type: ignore[import-untyped]
    from formulas.tokens.operand import XlError

    value = raw
    while isinstance(value, np.ndarray):
        if value.size != 1:
            raise FormulaError(
                FORMULA_EVALUATION,
                f"The formula {expression!r} gives {value.size} values, not one.",
            )
        value = value.reshape(-1)[0]
    if isinstance(value, XlError):
        raise _excel_error(expression, str(value))
    if value is schedula.EMPTY:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _number_result(value, expression)
    raise FormulaError(
        FORMULA_EVALUATION,
        f"The formula {expression!r} gives a {type(value).__name__}, not a value.",
    )


# --- a list's calculated fields ----------------------------------------------------------


def check_definitions(fields: Mapping[str, str | None], known_codes: Iterable[str]) -> list[str]:
    """Validate all the calculated fields of one list; return their evaluation order.

    ``fields`` maps each calculated field's code to its expression, ``known_codes`` are all
    the list's field codes (the calculated ones are added if missing). Checks, field by field
    in the given order: an empty or invalid expression or an unknown function
    (``FORMULA_SYNTAX``), references that are not codes of the list
    (``FORMULA_UNKNOWN_REFERENCE``) or match two of them (``FORMULA_AMBIGUOUS_REFERENCE``),
    a field referring to itself (``FORMULA_SELF_REFERENCE``); then cycles among the fields
    (``FORMULA_CYCLE``, the message gives the path, e.g. ``A → B → A``: A uses B, B uses A).
    Raises :class:`FormulaError` on the first problem. Returns the calculated codes with
    every field after the fields it uses (otherwise in the given order).
    """
    known: dict[str, set[str]] = {}
    for code in (*known_codes, *fields):
        known.setdefault(code.upper(), set()).add(code)
    position = {code: index for index, code in enumerate(fields)}
    calculated = {code.upper(): code for code in fields}

    uses: dict[str, list[str]] = {}
    for code, expression in fields.items():
        if expression is None or not expression.strip():
            raise FormulaError(
                FORMULA_SYNTAX, f"The calculated field {code!r} has no formula.", field=code
            )
        try:
            compiled = compile_formula(expression)
        except FormulaError as exc:
            raise exc.for_field(code) from exc
        refs = sorted(compiled.references)
        unknown = [compiled.spelling(ref) for ref in refs if ref not in known]
        if unknown:
            what = "is not a field" if len(unknown) == 1 else "are not fields"
            raise FormulaError(
                FORMULA_UNKNOWN_REFERENCE,
                f"The formula of {code!r} refers to {_quote_list(unknown)}, which {what} "
                "of this list.",
                references=unknown,
                field=code,
            )
        for ref in refs:
            if len(known[ref]) > 1:
                matches = sorted(known[ref])
                raise FormulaError(
                    FORMULA_AMBIGUOUS_REFERENCE,
                    f"The formula of {code!r} refers to {compiled.spelling(ref)!r}, which "
                    f"matches the fields {_quote_list(matches)} (codes are not case-sensitive "
                    "in formulas).",
                    references=matches,
                    field=code,
                )
        if code.upper() in compiled.references:
            raise FormulaError(
                FORMULA_SELF_REFERENCE,
                f"The formula of {code!r} refers to {code!r} itself.",
                references=(code,),
                field=code,
            )
        uses[code] = sorted(
            (calculated[ref] for ref in refs if ref in calculated), key=position.__getitem__
        )
    return _evaluation_order(list(fields), uses)


def _evaluation_order(codes: list[str], uses: dict[str, list[str]]) -> list[str]:
    """Depth-first topological order (iterative, so long chains cannot overflow the stack)."""
    order: list[str] = []
    done: set[str] = set()
    for root in codes:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        stack = [iter(uses[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                node = path.pop()
                on_path.discard(node)
                done.add(node)
                order.append(node)
            elif nxt in on_path:
                cycle = [*path[path.index(nxt):], nxt]
                raise FormulaError(
                    FORMULA_CYCLE,
                    "Calculated fields refer to each other in a cycle: "
                    f"{' → '.join(cycle)}.",
                    references=cycle,
                    field=nxt,
                )
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(uses[nxt]))
    return order


def evaluate_all(
    order: Sequence[str],
    expressions: Mapping[str, str],
    values: dict[str, object],
    *,
    errors: dict[str, FormulaError] | None = None,
) -> dict[str, object]:
    """Evaluate the calculated fields ``order`` (from :func:`check_definitions`) for a lead.

    ``expressions`` maps each code of ``order`` to its expression; ``values`` holds the
    lead's values by code (not modified; a stale value of a calculated field is replaced
    by its new result before any later field uses it). Returns ``{code: result}``.

    Without ``errors`` the first failure raises :class:`FormulaError` (``field`` set). With
    an ``errors`` dict, a failing field gets ``None`` and its error is recorded there, and
    every field that uses it also gets ``None`` (with an error saying why) instead of being
    computed from a blank.
    """
    working = dict(values)
    keys: dict[str, list[str]] = {}
    for key in working:
        keys.setdefault(key.upper(), []).append(key)
    failed: dict[str, str] = {}  # upper-cased code -> code
    results: dict[str, object] = {}
    for code in order:
        result: object = None
        try:
            compiled = compile_formula(expressions[code])
            broken = sorted(failed[ref] for ref in compiled.references if ref in failed)
            if broken:
                raise FormulaError(
                    FORMULA_EVALUATION,
                    f"Calculated field {code!r} uses {_quote_list(broken)}, which could not "
                    "be calculated.",
                    references=broken,
                    field=code,
                )
            result = compiled.evaluate(working)
        except FormulaError as exc:
            error = exc.for_field(code)
            if errors is None:
                raise error from (None if error is exc else exc)
            errors[code] = error
            failed[code.upper()] = code
        for key in keys.pop(code.upper(), []):
            del working[key]
        keys[code.upper()] = [code]
        working[code] = result
        results[code] = result
    return results

"""The named checks a validation rule can refer to (rule type ``checksum``, name ``CBU_ARG``)."""

from __future__ import annotations

from leadbase.fields.checks._common import Check
from leadbase.fields.checks.ar import (
    validate_cbu_arg,
    validate_cuil_arg,
    validate_cuit_arg,
    validate_dni_arg,
    validate_patente_arg,
)
from leadbase.fields.checks.br import validate_cnpj_br, validate_cpf_br
from leadbase.fields.checks.cl import validate_rut_cl
from leadbase.fields.checks.generic import validate_luhn
from leadbase.fields.checks.mx import validate_curp_mx, validate_rfc_mx, validate_rfc_mx_structure

CHECKSUMS: dict[str, Check] = {
    "DNI_ARG": validate_dni_arg,
    "CUIT_ARG": validate_cuit_arg,
    "CUIL_ARG": validate_cuil_arg,
    "CBU_ARG": validate_cbu_arg,
    "PATENTE_ARG": validate_patente_arg,
    "CPF_BR": validate_cpf_br,
    "CNPJ_BR": validate_cnpj_br,
    "RUT_CL": validate_rut_cl,
    "CURP_MX": validate_curp_mx,
    "RFC_MX": validate_rfc_mx,
    "RFC_MX_STRUCTURE": validate_rfc_mx_structure,
    "LUHN": validate_luhn,
}
"""Stable names (stored in rule definitions: never rename one) to checks."""


class UnknownCheckError(LookupError):
    """A rule names a check that does not exist (a configuration error, not a bad value)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"Unknown check {self.name!r}; known checks: {', '.join(sorted(CHECKSUMS))}."


def get_check(name: str) -> Check:
    """The check registered as ``name``; raises :class:`UnknownCheckError` otherwise."""
    try:
        return CHECKSUMS[name]
    except (KeyError, TypeError):
        raise UnknownCheckError(name) from None


def normalise(name: str, value: str) -> str:
    """Run check ``name`` on ``value``: the canonical value, or :class:`CheckError`."""
    return get_check(name)(value)


def is_valid(name: str, value: str) -> bool:
    """True when ``value`` passes check ``name`` (an unknown name still raises)."""
    check = get_check(name)
    try:
        check(value)
    except ValueError:
        return False
    return True

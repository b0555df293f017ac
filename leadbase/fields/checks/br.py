"""Brazil: CPF (people) and CNPJ (companies)."""

from __future__ import annotations

from leadbase.fields.checks._common import clean, fail, require_digits

CPF_WEIGHTS_1 = (10, 9, 8, 7, 6, 5, 4, 3, 2)
CPF_WEIGHTS_2 = (11, 10, 9, 8, 7, 6, 5, 4, 3, 2)
CNPJ_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
CNPJ_WEIGHTS_2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def mod11_br(digits: str, weights: tuple[int, ...]) -> int:
    """Receita Federal's mod-11 digit: remainder 0 or 1 gives 0, otherwise ``11 - remainder``."""
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def validate_cpf_br(value: str) -> str:
    """CPF (Cadastro de Pessoas Físicas), e.g. ``111.444.777-35``.

    11 digits; digit 10 is the mod-11 digit of digits 1-9 (weights 10..2), digit 11 that of
    digits 1-10 (weights 11..2). Numbers of one repeated digit (``111.111.111-11``) pass the
    arithmetic but are not issued, so they are refused. Returns the 11 digits.
    """
    check, label = "CPF_BR", "CPF"
    compact = require_digits(clean(value, check=check, label=label), check=check, label=label,
                             length=11)
    if len(set(compact)) == 1:
        raise fail(check, label, "component", "a number made of one repeated digit is not valid")
    first = mod11_br(compact[:9], CPF_WEIGHTS_1)
    second = mod11_br(compact[:9] + str(first), CPF_WEIGHTS_2)
    if compact[9:] != f"{first}{second}":
        raise fail(check, label, "checksum", "the check digits (last two digits) are wrong")
    return compact


def validate_cnpj_br(value: str) -> str:
    """CNPJ (Cadastro Nacional da Pessoa Jurídica), e.g. ``11.222.333/0001-81``.

    14 digits (8 root, 4 branch, 2 check digits); the check digits use weights
    5,4,3,2,9,8,7,6,5,4,3,2 and 6,5,4,3,2,9,8,7,6,5,4,3,2 with the same mod-11 rule as the
    CPF. ``/`` is accepted as a separator. Numbers of one repeated digit are refused.
    Returns the 14 digits.
    """
    check, label = "CNPJ_BR", "CNPJ"
    compact = require_digits(clean(value, check=check, label=label, extra="/"), check=check,
                             label=label, length=14)
    if len(set(compact)) == 1:
        raise fail(check, label, "component", "a number made of one repeated digit is not valid")
    first = mod11_br(compact[:12], CNPJ_WEIGHTS_1)
    second = mod11_br(compact[:12] + str(first), CNPJ_WEIGHTS_2)
    if compact[12:] != f"{first}{second}":
        raise fail(check, label, "checksum", "the check digits (last two digits) are wrong")
    return compact

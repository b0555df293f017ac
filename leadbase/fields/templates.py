"""The catalog of field templates: a field's type, mask and rules in one code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TemplateRule:
    type: str
    value: Any
    message: str


@dataclass(frozen=True)
class FieldTemplate:
    code: str
    name: str
    field_type_code: str
    field_subtype_code: str | None = None
    input_mask: str | None = None
    rules: tuple[TemplateRule, ...] = field(default_factory=tuple)


def _checksum(name: str, label: str) -> TemplateRule:
    return TemplateRule("CHECKSUM", name, f"El {label} no es válido.")


_NAME_RX = r"^[A-Za-zÀ-ÖØ-öø-ÿ' .-]+$"

TEMPLATES: tuple[FieldTemplate, ...] = (
    # A STRING with an email regex, as the published lead-fields catalogue shows it (the
    # EMAIL type, which also lowercases, remains available for fields defined by hand).
    FieldTemplate("EMAIL", "Correo Electrónico", "STRING", rules=(
        TemplateRule("MAX_LENGTH", 320, "El correo no puede superar 320 caracteres."),
        TemplateRule("REGEX", r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                     "El correo electrónico no es válido."))),
    FieldTemplate("FIRST_NAME", "Nombre", "STRING", rules=(
        TemplateRule("MAX_LENGTH", 100, "El nombre no puede superar 100 caracteres."),
        TemplateRule("REGEX", _NAME_RX, "El nombre solo admite letras, espacios, ' . y -."))),
    FieldTemplate("LAST_NAME", "Apellido", "STRING", rules=(
        TemplateRule("MAX_LENGTH", 100, "El apellido no puede superar 100 caracteres."),
        TemplateRule("REGEX", _NAME_RX, "El apellido solo admite letras, espacios, ' . y -."))),
    FieldTemplate("FULL_NAME", "Nombre completo", "STRING", rules=(
        TemplateRule("MAX_LENGTH", 200, "El nombre no puede superar 200 caracteres."),
        TemplateRule("REGEX", _NAME_RX, "El nombre solo admite letras, espacios, ' . y -."))),
    FieldTemplate("PHONE", "Teléfono", "PHONE"),
    FieldTemplate("BIRTH_DATE", "Fecha de nacimiento", "DATE", rules=(
        TemplateRule("MIN_DATE", "1900-01-01", "La fecha de nacimiento es demasiado antigua."),
        TemplateRule("MAX_DATE", "today", "La fecha de nacimiento no puede ser futura."))),
    FieldTemplate("AGE", "Edad", "INT", rules=(
        TemplateRule("MIN_VALUE", 0, "La edad no puede ser negativa."),
        TemplateRule("MAX_VALUE", 130, "La edad no puede superar 130."))),
    FieldTemplate("URL", "Sitio web", "URL"),
    FieldTemplate("INSTAGRAM", "Instagram", "STRING", rules=(
        TemplateRule("REGEX", r"^@?[A-Za-z0-9._]{1,30}$",
                     "El usuario de Instagram admite letras, números, . y _ (máx. 30)."),)),
    FieldTemplate("POSTAL_CODE", "Código postal", "STRING", rules=(
        TemplateRule("REGEX", r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$",
                     "El código postal no es válido."),)),
    FieldTemplate("DNI_ARG", "DNI (Argentina)", "STRING", rules=(_checksum("DNI_ARG", "DNI"),)),
    FieldTemplate("CUIT_ARG", "CUIT (Argentina)", "STRING",
                  rules=(_checksum("CUIT_ARG", "CUIT"),)),
    FieldTemplate("CUIL_ARG", "CUIL (Argentina)", "STRING",
                  rules=(_checksum("CUIL_ARG", "CUIL"),)),
    FieldTemplate("CBU_ARG", "CBU (Argentina)", "STRING", rules=(_checksum("CBU_ARG", "CBU"),)),
    FieldTemplate("PATENTE_ARG", "Patente (Argentina)", "STRING",
                  rules=(_checksum("PATENTE_ARG", "dominio"),)),
    FieldTemplate("CPF_BR", "CPF (Brasil)", "STRING", rules=(_checksum("CPF_BR", "CPF"),)),
    FieldTemplate("CNPJ_BR", "CNPJ (Brasil)", "STRING", rules=(_checksum("CNPJ_BR", "CNPJ"),)),
    FieldTemplate("RUT_CL", "RUT (Chile)", "STRING", rules=(_checksum("RUT_CL", "RUT"),)),
    FieldTemplate("CURP_MX", "CURP (México)", "STRING", rules=(_checksum("CURP_MX", "CURP"),)),
    FieldTemplate("RFC_MX", "RFC (México)", "STRING", rules=(_checksum("RFC_MX", "RFC"),)),
)

BY_CODE = {t.code: t for t in TEMPLATES}


def template_dict(t: FieldTemplate) -> dict[str, Any]:
    return {
        "code": t.code,
        "name": t.name,
        "field_type_code": t.field_type_code,
        "field_subtype_code": t.field_subtype_code,
        "input_mask": t.input_mask,
        "rules": [{"type": r.type, "value": r.value, "message": r.message} for r in t.rules],
    }

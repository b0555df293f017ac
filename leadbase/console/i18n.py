"""English and Spanish: the language of the pages, and dates and numbers in the
workspace's locale and time zone (Babel's CLDR data).

Messages are plain per-language dictionaries registered by each page module
(``register({"en": {...}, "es": {...}})``), so pages add their words beside their
routes. The language is the user's choice (kept in the session) or else the browser's
``Accept-Language``; a missing Spanish message falls back to English, a missing key to
the key itself."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from fastapi import Request

LANGUAGES = ("en", "es")
DEFAULT = "en"
_CATALOG: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add messages: ``{"en": {key: text}, "es": {key: text}}``."""
    for lang, entries in messages.items():
        _CATALOG.setdefault(lang, {}).update(entries)


def negotiate(request: Request, chosen: str | None) -> str:
    """The user's choice, else the first language of ``Accept-Language`` we speak."""
    if chosen in LANGUAGES:
        return chosen
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            with contextlib.suppress(ValueError):
                q = float(params.strip()[2:])
        lang = tag.strip().split("-")[0].lower()
        if lang:
            ranked.append((q, lang))
    for _, lang in sorted(ranked, key=lambda x: -x[0]):
        if lang in LANGUAGES:
            return lang
    return DEFAULT


@dataclass(frozen=True)
class Translator:
    """``t("key", name=...)`` in one language, and the workspace's formats."""

    lang: str
    locale: str = "en"
    timezone: str = "UTC"
    currency: str = "USD"

    def __call__(self, key: str, **values: Any) -> str:
        text = _CATALOG.get(self.lang, {}).get(key) or _CATALOG[DEFAULT].get(key) or key
        return text.format(**values) if values else text

    def _locale(self) -> Locale:
        return _locale_of(self.locale, self.lang)

    def _zone(self) -> ZoneInfo:
        return _zone_of(self.timezone)

    def datetime(self, value: dt.datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value, fmt, tzinfo=self._zone(), locale=self._locale())

    def date(self, value: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = value.astimezone(self._zone()).date()
        return format_date(value, fmt, locale=self._locale())

    def number(self, value: int | float | Decimal | None) -> str:
        return "" if value is None else format_decimal(value, locale=self._locale())

    def money(self, value: int | float | Decimal | str | None, currency: str | None = None) -> str:
        if value is None or value == "":
            return ""
        return format_currency(Decimal(str(value)), currency or self.currency,
                               locale=self._locale())


@functools.lru_cache(maxsize=256)
def _locale_of(locale: str, lang: str) -> Locale:
    for candidate in (locale, lang):
        with contextlib.suppress(ValueError, UnknownLocaleError):
            return Locale.parse(candidate.replace("-", "_"))
    return Locale.parse(DEFAULT)


@functools.lru_cache(maxsize=256)
def _zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


register({
    "en": {
        "app.name": "Leadbase", "nav.leads": "Leads", "nav.signout": "Sign out",
        "nav.skip": "Skip to content", "nav.menu": "Main navigation",
        "nav.language": "Language", "lang.en": "English", "lang.es": "Español",
        "login.title": "Sign in", "login.email": "Email", "login.password": "Password",
        "login.submit": "Sign in", "login.failed": "Wrong email or password.",
        "login.inactive": "This account is deactivated.",
        "login.suspended": "This workspace is suspended.",
        "login.throttled": "Too many sign-in attempts; try again later.",
        "login.platform": "Platform administrators use the API; the console works inside "
                          "a workspace.",
        "login.signed_out": "You are signed out.",
        "error.title": "Something is wrong", "error.403": "You may not do this.",
        "error.404": "Not found.", "error.csrf": "The form was out of date; reload the page "
                                                "and try again.",
        "error.back": "Back to the leads", "common.save": "Save", "common.cancel": "Cancel",
        "common.none": "—", "common.saved": "Saved.", "common.loading": "Loading…",
    },
    "es": {
        "app.name": "Leadbase", "nav.leads": "Prospectos", "nav.signout": "Cerrar sesión",
        "nav.skip": "Saltar al contenido", "nav.menu": "Navegación principal",
        "nav.language": "Idioma", "lang.en": "English", "lang.es": "Español",
        "login.title": "Iniciar sesión", "login.email": "Correo electrónico",
        "login.password": "Contraseña", "login.submit": "Entrar",
        "login.failed": "Correo o contraseña incorrectos.",
        "login.inactive": "Esta cuenta está desactivada.",
        "login.suspended": "Este espacio de trabajo está suspendido.",
        "login.throttled": "Demasiados intentos; inténtelo más tarde.",
        "login.platform": "Los administradores de la plataforma usan la API; la consola "
                          "trabaja dentro de un espacio de trabajo.",
        "login.signed_out": "Sesión cerrada.",
        "error.title": "Algo salió mal", "error.403": "No puede hacer esto.",
        "error.404": "No encontrado.",
        "error.csrf": "El formulario estaba desactualizado; recargue la página e inténtelo "
                      "de nuevo.",
        "error.back": "Volver a los prospectos", "common.save": "Guardar",
        "common.cancel": "Cancelar", "common.none": "—", "common.saved": "Guardado.",
        "common.loading": "Cargando…",
    },
})

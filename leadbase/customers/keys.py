"""What a customer is matched by: ``name_key`` and ``email_domain``, derived from what it
is given (never sent by clients), and the free mail domains no match may use.

- ``name_key``: the name folded (NFKC, case-folded, accents dropped, dots and
  apostrophes dropped, other punctuation and runs of spaces made one space) without
  trailing legal forms ("Acme, Inc.", "ACME inc" and "Acme" are one key).
- ``email_domain``: the domain of the email; without one, the host of the website
  (``www.`` dropped). Kept for free mail domains too (a filter may ask for them), but
  conversion never matches by a free mail domain (:func:`matchable_domain`).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# Legal forms dropped from the end of a company name before it is compared.
LEGAL_FORMS = frozenset({
    "inc", "incorporated", "llc", "ltd", "limited", "plc", "corp", "corporation", "co",
    "company", "gmbh", "ag", "sa", "sas", "sarl", "srl", "sl", "spa", "bv", "nv", "oy", "ab",
    "as", "pty", "pte", "kk", "lp", "llp", "sapi", "cv",
})
# Mailbox providers: an address there says nothing about the company (a shared domain).
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.es", "yahoo.fr",
    "yahoo.com.ar", "yahoo.com.mx", "ymail.com", "hotmail.com", "hotmail.co.uk",
    "hotmail.es", "hotmail.fr", "outlook.com", "outlook.es", "live.com", "msn.com",
    "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com",
    "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "mail.ru", "yandex.ru",
    "yandex.com", "zoho.com", "qq.com", "163.com", "126.com", "naver.com", "fastmail.com",
    "tutanota.com", "hey.com", "libero.it", "orange.fr", "free.fr", "laposte.net",
    "t-online.de", "terra.com.br", "uol.com.br", "bol.com.br", "rediffmail.com",
})
_NON_WORD = re.compile(r"[^\w]+")
_JOINED = re.compile(r"[.'’]")
_MAX_KEY = 300


def name_key(name: str) -> str:
    """The comparable form of a customer's (or a lead's company's) name; "" for a name
    that has nothing to compare."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    plain = _JOINED.sub("", plain)  # "S.A." is "sa", "McDonald's" "mcdonalds"
    words = [w for w in _NON_WORD.sub(" ", plain).replace("_", " ").split() if w]
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words)[:_MAX_KEY]


def domain_of_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().strip(".").lower()
    return domain or None


def domain_of_website(website: str | None) -> str | None:
    if not website:
        return None
    raw = website.strip()
    host = urlsplit(raw if "//" in raw else f"//{raw}").hostname
    if not host or "." not in host:
        return None
    return host.lower().removeprefix("www.")


def email_domain(email: str | None, website: str | None) -> str | None:
    return domain_of_email(email) or domain_of_website(website)


def matchable_domain(domain: str | None) -> str | None:
    """The domain a conversion may match customers by: None for a free mail domain."""
    if domain is None or domain in FREE_MAIL_DOMAINS:
        return None
    return domain

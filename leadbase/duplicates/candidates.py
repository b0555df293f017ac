"""Duplicate candidates of one lead: found by indexed lookups (the same mailbox, the same
phone, the same email domain and last name, a name that sounds the same: Double
Metaphone, ``lb_name_key``), then scored in Python with rapidfuzz."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, utils
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.leads.repository import Readable

# Webmail domains: the same domain there says nothing about the person.
FREE_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
    "icloud.com", "me.com", "aol.com", "gmx.com", "gmx.de", "mail.ru", "yandex.ru",
    "proton.me", "protonmail.com", "hotmail.es", "yahoo.es", "msn.com", "web.de",
})
POINTS = {"same_email": 60, "same_phone": 50, "same_domain_last_name": 25,
          "similar_company": 15}
NAME_CLOSE, NAME_SAME = 85.0, 95.0  # rapidfuzz token_sort_ratio
NAME_POINTS = {NAME_CLOSE: 25, NAME_SAME: 35}
COMPANY_CLOSE = 90.0
MIN_SCORE = 25
PER_PROBE = 50
# Name-only matches score at most 35: a few are enough (a common name has thousands).
NAME_PROBE = 20

BRIEF = "id, number, first_name, last_name, email, phone, company, owner_id, created_at"


@dataclass(frozen=True)
class Match:
    lead: dict[str, Any]
    score: int
    reasons: list[dict[str, Any]]


def email_key(email: str | None) -> str | None:
    """Python twin of SQL ``lb_email_key`` (migration 0025)."""
    if not email or "@" not in email:
        return email.lower() if email else None
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.lower().rpartition("@")[2] or None


@functools.lru_cache(maxsize=65536)  # names and companies repeat: fold each once
def fold(value: str) -> str:
    """Lower case, without accents or punctuation (rapidfuzz's processor after NFKD)."""
    decomposed = unicodedata.normalize("NFKD", value)
    return utils.default_process("".join(c for c in decomposed if not unicodedata.combining(c)))


def full_name(lead: dict[str, Any]) -> str:
    return " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p).strip()


def compare(a: dict[str, Any], b: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """The score 0-100 that ``b`` is the same person as ``a``, and why."""
    reasons: list[dict[str, Any]] = []
    score = 0
    ka, kb = email_key(a.get("email")), email_key(b.get("email"))
    if ka and ka == kb:
        reasons.append({"code": "same_email"})
        score += POINTS["same_email"]
    if a.get("phone") and a.get("phone") == b.get("phone"):
        reasons.append({"code": "same_phone"})
        score += POINTS["same_phone"]
    na, nb = full_name(a), full_name(b)
    if na and nb:
        sim = fuzz.token_sort_ratio(na, nb, processor=fold)
        if sim >= NAME_CLOSE:
            reasons.append({"code": "similar_name", "similarity": round(sim / 100, 3)})
            score += NAME_POINTS[NAME_SAME if sim >= NAME_SAME else NAME_CLOSE]
    ca, cb = a.get("company"), b.get("company")
    if ca and cb:
        sim = fuzz.token_set_ratio(ca, cb, processor=fold)
        if sim >= COMPANY_CLOSE:
            reasons.append({"code": "similar_company", "similarity": round(sim / 100, 3)})
            score += POINTS["similar_company"]
    da = email_domain(a.get("email"))
    if (da and da not in FREE_DOMAINS and da == email_domain(b.get("email"))
            and a.get("last_name") and b.get("last_name")
            and fold(a["last_name"]) == fold(b["last_name"])):
        reasons.append({"code": "same_domain_last_name"})
        score += POINTS["same_domain_last_name"]
    return min(score, 100), reasons


def _scope(scope: Readable) -> str:
    if not scope.own:
        return "tenant_id = %(t)s"
    return "tenant_id = %(t)s AND owner_id = %(o)s" if scope.owner_id else "false"


def lookups(scope: Readable, lead: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """One statement: the union of the indexed probes for ``lead`` (each bounded), the
    candidates' brief columns."""
    where = _scope(scope) + " AND deleted_at IS NULL AND id <> %(id)s"
    probes = []
    params: dict[str, Any] = {"t": scope.tenant_id, "o": scope.owner_id, "id": lead["id"],
                              "n": PER_PROBE, "nn": NAME_PROBE}
    if lead.get("email"):
        probes.append(f"SELECT id FROM leads WHERE {where} AND email IS NOT NULL "
                      "AND lb_email_key(email) = lb_email_key(%(email)s) LIMIT %(n)s")
        params["email"] = lead["email"]
        domain = email_domain(lead["email"])
        if domain and domain not in FREE_DOMAINS and lead.get("last_name"):
            probes.append(f"SELECT id FROM leads WHERE {where} AND email IS NOT NULL "
                          "AND last_name IS NOT NULL AND lb_domain_last(email, last_name) "
                          "= lb_domain_last(%(email)s, %(last)s) LIMIT %(n)s")
            params["last"] = lead["last_name"]
    if lead.get("phone"):
        probes.append(f"SELECT id FROM leads WHERE {where} AND phone = %(phone)s LIMIT %(n)s")
        params["phone"] = lead["phone"]
    if lead.get("first_name") or lead.get("last_name"):
        probes.append(f"SELECT id FROM leads WHERE {where} "
                      "AND (first_name IS NOT NULL OR last_name IS NOT NULL) "
                      "AND lb_name_key(first_name, last_name) "
                      "= lb_name_key(%(first)s, %(last)s) LIMIT %(nn)s")
        params.update(first=lead.get("first_name"), last=lead.get("last_name"))
    if not probes:
        return "", params
    union = " UNION ".join(f"({p})" for p in probes)
    return (f"SELECT {BRIEF} FROM leads WHERE tenant_id = %(t)s AND id IN ({union})",
            params)


async def find(session: AsyncSession, *, scope: Readable, lead: dict[str, Any],
               limit: int) -> list[Match]:
    """The candidates of ``lead`` among the leads of ``scope``, best first."""
    sql, params = lookups(scope, lead)
    if not sql:
        return []
    rows = await raw.fetch_all(session, sql, params)
    return rank(lead, rows, limit)


def rank(lead: dict[str, Any], rows: list[dict[str, Any]], limit: int) -> list[Match]:
    matches = []
    for row in rows:
        score, reasons = compare(lead, row)
        if score >= MIN_SCORE:
            matches.append(Match(lead=row, score=score, reasons=reasons))
    matches.sort(key=lambda m: (-m.score, m.lead["created_at"], m.lead["id"]))
    return matches[:limit]


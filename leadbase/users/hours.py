"""A user's weekly working hours, in their own time zone.

Stored as ``{"mon": [["09:00", "13:00"], ["14:00", "18:00"]], "tue": [...], ...}``: per
weekday (``mon`` .. ``sun``) up to 4 intervals ``[start, end)``, ``HH:MM`` 24-hour, start
before end (``"24:00"`` ends at midnight; a night shift is split across two days), sorted
and not overlapping. A single interval may be sent flat (``"mon": ["09:00", "17:00"]``).
``{}`` means no hours are set: always available. Once any day is set, a day left out is
a day off.
"""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import date, datetime
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS = 4


class HoursError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _minutes(value: Any, field: str) -> int:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":" \
            or not (value[:2] + value[3:]).isdigit():
        raise HoursError(field, "must be a time HH:MM")
    hours, minutes = int(value[:2]), int(value[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursError(field, "must be a time between 00:00 and 24:00")
    return hours * 60 + minutes


def normalise(hours: Any, field: str = "working_hours") -> dict[str, list[list[str]]]:
    """The hours checked and in their stored form; :class:`HoursError` naming the place."""
    if not isinstance(hours, dict):
        raise HoursError(field, "must be an object of weekdays")
    out: dict[str, list[list[str]]] = {}
    for day, intervals in hours.items():
        where = f"{field}.{day}"
        if day not in DAYS:
            raise HoursError(where, f"unknown weekday (one of {', '.join(DAYS)})")
        if not isinstance(intervals, list):
            raise HoursError(where, "must be a list of [start, end] intervals")
        if len(intervals) == 2 and all(isinstance(v, str) for v in intervals):
            intervals = [intervals]
        if len(intervals) > MAX_INTERVALS:
            raise HoursError(where, f"at most {MAX_INTERVALS} intervals a day")
        spans: list[tuple[int, int, list[str]]] = []
        for i, interval in enumerate(intervals):
            at = f"{where}[{i}]"
            if not isinstance(interval, list) or len(interval) != 2:
                raise HoursError(at, "must be [start, end]")
            start, end = _minutes(interval[0], at), _minutes(interval[1], at)
            if start >= end:
                raise HoursError(at, "start must be before end")
            spans.append((start, end, [interval[0], interval[1]]))
        spans.sort()
        for (_, end, _), (start, _, _) in itertools.pairwise(spans):
            if start < end:
                raise HoursError(where, "intervals overlap")
        if spans:
            out[day] = [s[2] for s in spans]
    return {d: out[d] for d in DAYS if d in out}


def check_timezone(name: str, field: str = "timezone") -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(field, "unknown time zone (an IANA name, e.g. Europe/Madrid)") from exc
    return name


def local(at: datetime, timezone: str | None) -> datetime:
    try:
        zone = zoneinfo.ZoneInfo(timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return at.astimezone(zone)


def is_working(hours: dict[str, Any], at_local: datetime) -> bool:
    """Whether ``at_local`` (already in the user's zone) falls in the hours ({}: always)."""
    if not hours:
        return True
    minute = at_local.hour * 60 + at_local.minute
    for start, end in hours.get(DAYS[at_local.weekday()], ()):
        if _minutes(start, "") <= minute < _minutes(end, ""):
            return True
    return False


def out_of_office(until: date | None, at_local: datetime) -> bool:
    """Out of office through ``until`` (inclusive, in the user's zone)."""
    return until is not None and at_local.date() <= until



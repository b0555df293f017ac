"""Users' working hours, time zone and out-of-office date: validated through the users
API, and read the way assignment reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from leadbase.users import hours
from tests.auth.helpers import assert_problem
from tests.factories import add_member, make_workspace


def test_normalise() -> None:
    assert hours.normalise({"fri": ["14:00", "18:00"], "mon": [["14:00", "18:00"],
                                                               ["09:00", "13:00"]]}) == {
        "mon": [["09:00", "13:00"], ["14:00", "18:00"]], "fri": [["14:00", "18:00"]]}
    assert hours.normalise({"sun": [["00:00", "24:00"]]}) == {"sun": [["00:00", "24:00"]]}
    assert hours.normalise({}) == {} and hours.normalise({"tue": []}) == {}


@pytest.mark.parametrize(("value", "field"), [
    ({"funday": [["09:00", "10:00"]]}, "working_hours.funday"),
    ({"mon": [["10:00", "09:00"]]}, "working_hours.mon[0]"),
    ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "working_hours.mon"),
    ({"mon": [["9am", "5pm"]]}, "working_hours.mon[0]"),
    ({"mon": [["09:00", "24:30"]]}, "working_hours.mon[0]"),
    ({"mon": "09:00-17:00"}, "working_hours.mon"),
    ({"mon": [["00:00", "01:00"], ["02:00", "03:00"], ["04:00", "05:00"],
              ["06:00", "07:00"], ["08:00", "09:00"]]}, "working_hours.mon"),
])
def test_refused(value: object, field: str) -> None:
    with pytest.raises(hours.HoursError) as info:
        hours.normalise(value)
    assert info.value.field == field


def test_is_working_and_out_of_office() -> None:
    week = {"mon": [["09:00", "13:00"], ["14:00", "18:00"]]}
    monday = datetime(2026, 12, 7, 12, 59, tzinfo=UTC)  # a Monday
    madrid = hours.local(monday, "Europe/Madrid")  # 13:59 there
    assert not hours.is_working(week, madrid)
    assert hours.is_working(week, hours.local(monday, "UTC"))
    assert hours.is_working({}, madrid)  # no hours set: always
    assert not hours.is_working(week, hours.local(datetime(2026, 12, 8, 10, tzinfo=UTC),
                                                  "UTC"))  # Tuesday: a day off
    assert hours.out_of_office(date(2026, 12, 7), madrid)  # through the date, inclusive
    assert not hours.out_of_office(date(2026, 12, 6), madrid)
    assert not hours.out_of_office(None, madrid)


async def test_users_api(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    url = f"/api/v1/users/{agent.user_id}"
    resp = await client.patch(url, headers=owner.headers, json={
        "working_hours": {"tue": ["08:00", "12:00"]}, "timezone": "America/Mexico_City",
        "out_of_office_until": "2027-01-06", "capacity": 25})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["working_hours"] == {"tue": [["08:00", "12:00"]]}
    assert body["timezone"] == "America/Mexico_City"
    assert body["out_of_office_until"] == "2027-01-06" and body["capacity"] == 25
    for bad in ({"timezone": "Mars/Olympus"}, {"working_hours": {"mon": [["10:00", "09:00"]]}},
                {"out_of_office_until": "soon"}, {"capacity": -3}):
        problem = assert_problem(await client.patch(url, headers=owner.headers, json=bad), 422,
                                 "VALIDATION_ERROR")
        assert problem["errors"][0]["field"] == next(iter(bad))
    resp = await client.patch(url, headers=owner.headers,
                              json={"out_of_office_until": None, "timezone": None})
    assert resp.json()["out_of_office_until"] is None and resp.json()["timezone"] is None
    # Agents cannot change users (admins can).
    assert_problem(await client.patch(url, headers=agent.headers, json={"capacity": 1}), 403)

"""Every value is typed before use (issue 17, point 3): a rule's value, the sort. (JSON
NaN and Infinity: tests/kit/test_input.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadbase.kit.errors import ValidationFailed
from leadbase.kit.sorting import parse_sort
from leadbase.leads import repository as leads_repository
from tests.factories import make_workspace


@pytest.mark.parametrize("value", [["DNI_ARG"], {"DNI_ARG": 1}, 7, None, True])
async def test_a_checksum_rule_needs_a_check_name(client: httpx.AsyncClient, value: Any) -> None:
    owner = await make_workspace(client)
    made = await client.post("/api/v1/fields", headers=owner.headers,
                             json={"name": "Documento", "type": "STRING"})
    assert made.status_code == 201, made.text
    resp = await client.post("/api/v1/validation-rules", headers=owner.headers, json={
        "field_id": made.json()["id"], "type": "CHECKSUM", "value": value})
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] in ("INVALID_RULE", "VALIDATION_ERROR"), resp.text
    assert resp.json()["errors"][0]["field"] == "value", resp.text


@pytest.mark.parametrize("value", [["DNI_ARG"], {"a": 1}])
def test_check_rule_value_refuses_lists_and_objects(value: Any) -> None:
    from leadbase.fields.definitions import check_rule_value
    from leadbase.kit.errors import AppError

    with pytest.raises(AppError) as info:
        check_rule_value("CHECKSUM", value)
    assert info.value.status == 422 and info.value.code == "INVALID_RULE"
    assert check_rule_value("CHECKSUM", "DNI_ARG") == "DNI_ARG"


@pytest.mark.parametrize("sort", [",,,", ",", "name,,-created_at", "-created_at,", "--name"])
async def test_a_malformed_sort_is_refused(client: httpx.AsyncClient, sort: str) -> None:
    owner = await make_workspace(client)
    for path in ("/api/v1/leads", "/api/v1/lists", "/api/v1/code-lists"):
        resp = await client.get(path, headers=owner.headers, params={"sort": sort})
        assert resp.status_code == 422, (path, resp.text)
        assert resp.json()["code"] == "INVALID_SORT"
        assert resp.json()["errors"][0]["field"] == "sort"
    # An empty sort is the default one.
    assert (await client.get("/api/v1/leads?sort=", headers=owner.headers)).status_code == 200


def test_parse_sort() -> None:
    allowed = dict(leads_repository.SORTABLE)
    tiebreak = ("id", leads_repository.ID_COLUMN)
    key, _ = parse_sort("-created_at, +first_name", allowed, default="-created_at",
                        tiebreak=tiebreak)
    assert key == "-created_at,first_name,id"
    assert parse_sort(None, allowed, default="-created_at", tiebreak=tiebreak)[0] == \
        "-created_at,-id"
    for bad in (",,,", "first_name,", "++first_name"):
        with pytest.raises(ValidationFailed) as info:
            parse_sort(bad, allowed, default="-created_at", tiebreak=tiebreak)
        assert info.value.code == "INVALID_SORT"


async def test_moments_are_taken_in_utc(client: httpx.AsyncClient) -> None:
    """Python accepts offsets up to 23:59, PostgreSQL only up to 15:59: a moment is turned
    into UTC first; one that leaves years 1-9999 in UTC is a 422 (found by schemathesis)."""
    owner = await make_workspace(client)
    for path in ("/api/v1/leads", "/api/v1/leads/export", "/api/v1/audit-log"):
        param = "updated_after" if "leads" in path else "created_after"
        resp = await client.get(path, headers=owner.headers,
                                params={param: "0429-05-30T23:40:53+18:48"})
        assert resp.status_code == 200, (path, resp.text)
        resp = await client.get(path, headers=owner.headers,
                                params={param: "0001-01-01T00:00:00+05:00"})
        assert resp.status_code == 422, (path, resp.text)
        assert resp.json()["errors"][0]["field"] == param
    job = await client.post("/api/v1/exports", headers=owner.headers, json={
        "filters": {"created_before": "9999-12-31T23:00:00-18:00"}})
    assert job.status_code == 422, job.text
    key = await client.post("/api/v1/api-keys", headers=owner.headers, json={
        "name": "k", "expires_at": "2999-01-01T00:00:00+20:00"})
    assert key.status_code == 201, key.text
    assert key.json()["expires_at"].startswith("2998-12-31T04:00:00")

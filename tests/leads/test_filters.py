"""The lead filter schema: one meaning whether it comes from a query string (the list and
export endpoints) or from a JSON body (background exports, bulk operations, jobs)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from leadbase.kit.errors import ValidationFailed
from leadbase.leads.filters import LeadFilter
from tests.factories import make_lead, make_workspace


def test_a_body_means_what_the_query_means() -> None:
    list_id = uuid.uuid4()
    body = LeadFilter.from_body({"status": ["new", "lost"], "tags": "a, b", "score_gte": 5,
                                 "list_id": str(list_id), "fields.Edad_gte": 18,
                                 "fields.Plan": ["pro", "basic"], "include_deleted": True})
    query = LeadFilter.model_validate({"status": "new,lost", "tags": "a, b", "score_gte": "5",
                                       "list_id": str(list_id), "fields.Edad_gte": "18",
                                       "fields.Plan": "pro,basic", "include_deleted": "true",
                                       "page": "2", "sort": "-created_at"})
    assert body == query
    assert body.statuses == ["new", "lost"] and body.tag_list == ["a", "b"]
    assert body.list_ids == [list_id] and body.deleted
    assert body.field_filters == [("Edad", "gte", "18"), ("Plan", "eq", "pro,basic")]
    assert LeadFilter.from_body(body.model_dump(mode="json", exclude_defaults=True)) == body


def test_owner_none_and_repeated_custom_field_keys() -> None:
    user = uuid.uuid4()
    f = LeadFilter.model_validate({"owner_id": f"none,{user}",
                                   "fields.Alta": ["2026-01-01", "2026-02-01"]})
    assert f.owner_none and f.owner_ids == [user]
    assert f.field_filters == [("Alta", "eq", "2026-01-01"), ("Alta", "eq", "2026-02-01")]
    assert LeadFilter(q="  ").search is None


@pytest.mark.parametrize(("params", "field"), [
    ({"bogus": "1"}, "filter.bogus"),
    ({"score_gte": "high"}, "filter.score_gte"),
    ({"score_lte": 101}, "filter.score_lte"),
    ({"created_after": "yesterday"}, "filter.created_after"),
    ({"status": "won"}, "status"),
    ({"owner_id": "abc"}, "owner_id"),
    ({"list_id": "1,2"}, "list_id"),
])
def test_bad_bodies_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        LeadFilter.from_body(params)
    assert info.value.code == "INVALID_FILTER"
    assert info.value.errors and info.value.errors[0]["field"] == field


async def test_the_endpoints_document_and_take_the_same_parameters(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Filters")
    lead = await make_lead(client, owner, source="web", tags=["vip"])
    spec = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/leads", "/api/v1/leads/export"):
        names = {p["name"] for p in spec[path]["get"]["parameters"]}
        assert set(LeadFilter.model_fields) <= names, path
    got = await client.get("/api/v1/leads?source=web&tags=vip,other&status=new",
                           headers=owner.headers)
    assert [r["id"] for r in got.json()["data"]] == [lead["id"]]
    bad = await client.post("/api/v1/exports", headers=owner.headers,
                            json={"filters": {"source": "web", "per_page": 5}})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_FILTER"
    assert bad.json()["errors"] == [{"field": "filter.per_page",
                                     "message": "Extra inputs are not permitted"}]

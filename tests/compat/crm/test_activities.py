"""Activities beyond the document's examples: cursor pages, attribute changes, the
type's attributes only, system entries read-only."""

from __future__ import annotations

import httpx

from tests.compat.crm.helpers import BASE, agent_id, assert_error, call, make_lead, make_world, ok


async def test_lists_page_by_cursor(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await make_lead(client, w.owner)
    made = [await ok(client, "POST", "/activities/log-note", w.owner,
                     {"leadId": lead["id"], "content": f"note {i}"}, expect=201)
            for i in range(5)]
    seen: list[str] = []
    url = f"{BASE}/activities?leadId={lead['id']}&limit=2"
    cursor = None
    for _ in range(5):
        resp = await client.get(url + (f"&cursor={cursor}" if cursor else ""),
                                headers=w.owner.headers)
        assert resp.status_code == 200, resp.text
        seen += [a["id"] for a in resp.json()]
        cursor = resp.headers.get("x-next-cursor")
        if cursor is None:
            break
    assert seen == [a["id"] for a in reversed(made)]  # newest first, each once
    assert_error(await call(client, "GET", "/activities", w.owner, cursor="forged"), 400)


async def test_update_merges_the_types_attributes(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await make_lead(client, w.owner)
    task = await ok(client, "POST", "/activities/log-task", w.owner,
                    {"leadId": lead["id"], "title": "Send quote", "priority": "medium",
                     "dueDate": "2030-01-01T09:00:00Z"}, expect=201)
    assert task["priority"] == "normal" and task["state"] == "SCHEDULED"
    changed = await ok(client, "PUT", f"/activities/{task['id']}", w.owner,
                       {"priority": "urgent", "completedAt": "2026-01-01T10:00:00Z"})
    assert (changed["priority"], changed["title"], changed["state"]) == \
        ("urgent", "Send quote", "COMPLETED")
    err = assert_error(await call(client, "PUT", f"/activities/{task['id']}", w.owner,
                                  {"outcome": "x"}), 400)
    assert err["errors"][0]["field"] == "outcome"
    err = assert_error(await call(client, "POST", "/activities/log-call", w.owner,
                                  {"leadId": lead["id"], "duration": 2000}), 400)
    assert err["errors"][0]["field"] == "duration"
    err = assert_error(await call(client, "POST", "/activities/log-note", w.owner,
                                  {"leadId": lead["id"]}), 400)
    assert err["errors"][0]["field"] == "content"
    err = assert_error(await call(client, "POST", "/activities", w.owner,
                                  {"type": "STATUS_CHANGE", "leadId": lead["id"]}), 400)
    assert err["errors"][0]["field"] == "type"
    assert_error(await call(client, "POST", "/activities/log-note", w.owner,
                            {"content": "no lead"}), 400)


async def test_system_entries_are_read_only(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await make_lead(client, w.owner)
    await ok(client, "POST", f"/leads/{lead['id']}/assign", w.owner,
             {"agentId": agent_id(w.agent)})
    timeline = await ok(client, "GET", f"/activities/timeline/lead/{lead['id']}", w.owner)
    entry = next(e for e in timeline if e["type"] == "ASSIGNMENT")
    assert entry["toOwnerId"] == str(w.agent.user_id)
    assert_error(await call(client, "PUT", f"/activities/{entry['id']}", w.owner,
                            {"description": "x"}), 403, code="SYSTEM_ACTIVITY_READ_ONLY")
    assert_error(await call(client, "DELETE", f"/activities/{entry['id']}", w.owner), 403)

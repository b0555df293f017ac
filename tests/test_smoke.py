import httpx

from tests.factories import make_lead, make_workspace


async def test_register_and_create_lead(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, phone="415-555-2672")
    assert lead["phone"] == "+14155552672"
    resp = await client.get("/api/v1/leads", headers=owner.headers)
    assert resp.status_code == 200
    assert resp.json()["total"] == 1

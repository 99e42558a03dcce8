from datetime import date

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from generator.sandbox.common import Refused, handler, json_reply
from generator.sandbox.faults import Faults
from generator.sandbox.state import SandboxState


def app_with(state, serve, gate=None):
    app = Starlette(routes=[Route("/x", handler("demo", serve, gate=gate))])
    app.state.sandbox = state
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sandbox")


async def test_handlers_count_requests_and_turn_refusals_into_the_platform_shape(world):
    state = SandboxState(world=world, faults=Faults())

    async def gate(request, state):
        if request.query_params.get("token") != "t":
            raise Refused(JSONResponse({"code": 40105, "message": "bad token"}, 401))

    async def serve(request, state):
        return json_reply(state, {"code": 0, "data": state.scratch("demo").setdefault("n", 1)})

    async with app_with(state, serve, gate) as http:
        refused = await http.get("/x")
        served = await http.get("/x", params={"token": "t"})
    assert refused.status_code == 401 and refused.json()["code"] == 40105
    assert served.json() == {"code": 0, "data": 1}
    assert state.requests["demo"] == 2 and state.scratch("demo") == {"n": 1}


async def test_json_replies_are_truncated_by_faults_but_errors_never(world):
    state = SandboxState(world=world, faults=Faults(truncate_rate=1.0))
    body = json_reply(state, {"rows": list(range(50))}).body
    assert body.startswith(b'{"rows":[0,1') and not body.endswith(b"]}")
    assert json_reply(state, {"error": "x"}, status=400).body == b'{"error":"x"}'


def test_rows_select_one_account_and_window_in_order(world):
    state = SandboxState(world=world, faults=Faults())
    account = next(a for a in world.ads if a.account.source == "google_ads").account
    rows = state.rows("google_ads", account.account_id, date(2026, 11, 1), date(2026, 11, 3))
    assert rows and {r["account_id"] for r in rows} == {account.account_id}
    assert min(r["date"] for r in rows) == date(2026, 11, 1)
    assert max(r["date"] for r in rows) == date(2026, 11, 3)
    assert rows == sorted(rows, key=lambda r: (r["date"], r["ad_id"], r["platform"]))
    first_ad = rows[0]["ad_id"]
    only = state.rows(
        "google_ads", account.account_id, date(2026, 11, 1), date(2026, 11, 3), ad_ids=[first_ad]
    )
    assert {r["ad_id"] for r in only} == {first_ad}


def test_faults_travel_to_a_sandbox_process_as_json():
    chaos = Faults.chaos(slow_seconds=0.001, outage={"x", "meta"})
    again = Faults.from_json(chaos.to_json())
    assert again.to_json() == chaos.to_json() and again.outage == {"meta", "x"}
    assert [again._rng.random() for _ in range(3)] == [chaos._rng.random() for _ in range(3)]

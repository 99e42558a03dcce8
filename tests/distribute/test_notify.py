"""Chat and webhook notifications: exact payloads, signatures, and delivery to a real
loopback HTTP server (retries, permanent failures, filtering, secrets kept out of sight)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import UTC, date, datetime

import httpx
import pytest

from generator.connectors.redact import register_secret
from generator.distribute import notify as notify_module
from generator.distribute.notify import ATTEMPTS, RETRY_AFTER_CAP, Delivery, notify
from generator.distribute.notify_formats import (
    Event,
    encode,
    kpi_alert,
    markdown_escape,
    published,
    sign,
    slack_escape,
    slack_payload,
    stale,
    sync_failed,
    teams_payload,
    verify,
    webhook_payload,
)
from generator.distribution_config import Notifier

NOW = 1_795_000_000.0  # a fixed clock: 2026-11-18T08:26:40Z
#: the secret part of each hook's address; none of it may show up in a log or an outcome
SLACK_PATH = "/services/T0AGENCY/B0HOOK/slackSecretPathX9"
TEAMS_PATH = "/workflows/teamsSecretPathQ7/triggers/manual/paths/invoke"
HOOK_PATH = "/hooks/webhookSecretPathK3"
SIGNING_SECRET = "whsec_signingSecretValue42"


@pytest.fixture
def env(server):
    return {
        "SLACK_URL": server.url(SLACK_PATH),
        "TEAMS_URL": server.url(TEAMS_PATH),
        "HOOK_URL": server.url(HOOK_PATH),
        "HOOK_SECRET": SIGNING_SECRET,
    }


SLACK = Notifier(name="team-slack", kind="slack", url="${SLACK_URL}")
TEAMS = Notifier(name="team-teams", kind="teams", url="${TEAMS_URL}")
HOOK = Notifier(name="hook", kind="webhook", url="${HOOK_URL}", secret="${HOOK_SECRET}")


class Sleeps(list):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def send(event, notifiers, env, **kw):
    kw.setdefault("sleep", Sleeps())
    return notify(event, notifiers, env, agency="Bright Agency", clock=lambda: NOW, **kw)


def report(client="acme", **kw):
    return published(
        client,
        "2026-10",
        "https://reports.example.com/acme/2026-10/",
        [("Spend", "€12,340.00"), ("ROAS", "4.2")],
        **kw,
    )


# -- exact payloads -----------------------------------------------------------------------

ALERT = Event(
    "kpi_alert",
    "Acme: KPI alert for 2026-10",
    "CPA 48.20 against target 40.00",
    client="acme",
    client_name="Acme",
    period="2026-10",
    url="https://reports.example.com/acme/2026-10/",
    facts=(("CPA", "48.20"), ("Target", "40.00")),
    severity="warning",
    id="evt-1",
)


def test_slack_payload_is_block_kit():
    assert slack_payload(ALERT, agency="Bright & Co") == {
        "text": "Acme: KPI alert for 2026-10: CPA 48.20 against target 40.00",
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": ":warning: Acme: KPI alert for 2026-10",
                    "emoji": True,
                },
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "CPA 48.20 against target 40.00"},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*CPA*\n48.20"},
                    {"type": "mrkdwn", "text": "*Target*\n40.00"},
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Bright &amp; Co · Acme · 2026-10"}],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open report"},
                        "url": "https://reports.example.com/acme/2026-10/",
                    }
                ],
            },
        ],
    }


def test_teams_payload_is_an_adaptive_card_in_a_message():
    assert teams_payload(ALERT, agency="Bright Agency") == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Acme: KPI alert for 2026-10",
                            "size": "Large",
                            "weight": "Bolder",
                            "wrap": True,
                            "color": "warning",
                        },
                        {
                            "type": "TextBlock",
                            "text": "CPA 48.20 against target 40.00",
                            "wrap": True,
                        },
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "CPA", "value": "48.20"},
                                {"title": "Target", "value": "40.00"},
                            ],
                        },
                        {
                            "type": "TextBlock",
                            "text": "Bright Agency · Acme · 2026-10",
                            "isSubtle": True,
                            "size": "Small",
                            "wrap": True,
                        },
                    ],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "Open report",
                            "url": "https://reports.example.com/acme/2026-10/",
                        }
                    ],
                },
            }
        ],
    }


def test_webhook_payload_is_the_documented_contract():
    sent_at = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    payload = webhook_payload(ALERT, agency="Bright Agency", sent_at=sent_at)
    assert payload == {
        "event": "kpi_alert",
        "agency": "Bright Agency",
        "client": "acme",
        "client_name": "Acme",
        "period": "2026-10",
        "title": "Acme: KPI alert for 2026-10",
        "text": "CPA 48.20 against target 40.00",
        "url": "https://reports.example.com/acme/2026-10/",
        "facts": {"CPA": "48.20", "Target": "40.00"},
        "severity": "warning",
        "sent_at": "2026-11-24T08:00:00Z",
        "id": "evt-1",
    }
    assert encode(payload).startswith(b'{"event":"kpi_alert","agency":"Bright Agency",')
    assert encode({"name": "Café"}) == b'{"name":"Caf\\u00e9"}'  # ASCII: no charset to guess


def test_an_event_without_url_facts_or_text_leaves_those_blocks_out():
    bare = Event("stale", "Sync is stale", "")
    assert [b["type"] for b in slack_payload(bare)["blocks"]] == ["header"]
    card = teams_payload(bare)["attachments"][0]["content"]
    assert [b["type"] for b in card["body"]] == ["TextBlock"] and "actions" not in card


# -- escaping and limits --------------------------------------------------------------------

HOSTILE = [
    # (client name, format, must not appear, must appear)
    ("<!channel>", "slack", "<!channel>", "&lt;!channel&gt;"),
    ("<http://evil.test|Acme>", "slack", "<http://evil.test", "&lt;http://evil.test|Acme&gt;"),
    ("<script>alert(1)</script>", "slack", "<script>", "&lt;script&gt;"),
    ("[x](javascript:alert(1))", "teams", "[x](", "\\[x\\](javascript:alert(1))"),
    ("<http://evil.test>", "teams", "<http://", "\\<http://evil.test\\>"),
    ("<script>alert(1)</script>", "teams", "<script>", "\\<script\\>"),
    ("**Paid** _now_", "teams", "**Paid**", "\\*\\*Paid\\*\\* \\_now\\_"),
]


@pytest.mark.parametrize(("name", "kind", "absent", "present"), HOSTILE)
def test_hostile_names_are_escaped_for_each_channel(name, kind, absent, present):
    event = report(client_name=name)
    payload = slack_payload(event) if kind == "slack" else teams_payload(event)
    texts = list(_strings(payload))
    unescaped = re.compile(r"(?<!\\)" + re.escape(absent))  # "\<x" is escaped, "<x" is not
    assert not any(unescaped.search(text) for text in texts)
    assert any(present in text for text in texts)


def test_the_webhook_carries_names_as_plain_data():
    name = "<script>[x](javascript:alert(1))</script> <!channel>"
    payload = webhook_payload(report(client_name=name), agency=None, sent_at=datetime.now(UTC))
    assert json.loads(encode(payload))["client_name"] == name  # receivers escape for their use


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("- first\n+ second\n1. third", "\\- first\n\\+ second\n1\\. third"),
        ("2026-10 brand_search 4.2", "2026-10 brand\\_search 4.2"),
        ("a \\ b `code` ~x~", "a \\\\ b \\`code\\` \\~x\\~"),
    ],
)
def test_markdown_escape_neutralises_lists_and_emphasis(text, escaped):
    assert markdown_escape(text) == escaped


def test_slack_limits_are_respected_without_splitting_an_entity():
    facts = [(f"Metric {i}", "&" * 3000) for i in range(12)]
    event = Event("kpi_alert", "<&>" * 100, "a&b<" * 2000, facts=facts)
    blocks = slack_payload(event)["blocks"]
    header, section, fields = (
        blocks[0]["text"]["text"],
        blocks[1]["text"]["text"],
        blocks[2]["fields"],
    )
    assert len(header) <= 150 and len(section) <= 3000 and header.endswith("…")
    assert len(fields) == 10 and fields[-1]["text"] == "*…*\n3 more in the report"
    assert all(len(f["text"]) <= 2000 for f in fields)
    for text in (header, section, *(f["text"] for f in fields)):
        # every "&" starts a whole entity: nothing was cut in the middle of one
        assert re.fullmatch(r"([^&]|&amp;|&lt;|&gt;)*", text), text[-12:]


def test_slack_escape_touches_only_the_three_reserved_characters():
    assert slack_escape("a & b < c > d *e* _f_") == "a &amp; b &lt; c &gt; d *e* _f_"


# -- events -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "kind", "severity", "title"),
    [
        (report(), "published", "info", "acme: 2026-10 report published"),
        (
            sync_failed("acme", "google_ads 123-456", "HTTP 503"),
            "sync_failed",
            "error",
            "acme: sync of google_ads 123-456 failed",
        ),
        (
            stale("acme", "tiktok", date(2026, 11, 20)),
            "stale",
            "warning",
            "acme: tiktok data is stale",
        ),
        (
            kpi_alert("acme", "2026-10", "CPA 48.20"),
            "kpi_alert",
            "warning",
            "acme: KPI alert for 2026-10",
        ),
    ],
)
def test_constructors_make_the_four_events(event, kind, severity, title):
    assert (event.kind, event.severity, event.title, event.client) == (
        kind,
        severity,
        title,
        "acme",
    )


def test_stale_and_sync_failed_say_what_happened():
    assert stale("acme", "tiktok", date(2026, 11, 20)).facts == (
        ("Platform", "tiktok"),
        ("Last complete day", "2026-11-20"),
    )
    assert stale("acme", "tiktok", None).text == "tiktok data for acme has never been synced."
    register_secret("tok_leakedInAnErrorMessage")
    failed = sync_failed("acme", "meta", RuntimeError("refused tok_leakedInAnErrorMessage"))
    assert failed.text == "Fetching meta for acme failed: refused ***"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "party"}, "unknown event"),
        ({"severity": "panic"}, "unknown severity"),
        ({"url": "javascript:alert(1)"}, "http"),
        ({"url": "data:text/html,hi"}, "http"),
    ],
)
def test_a_malformed_event_is_refused(changes, message):
    fields = {"kind": "published", "title": "t", "text": "x", **changes}
    with pytest.raises(ValueError, match=message):
        Event(**fields)


# -- signing ----------------------------------------------------------------------------------


def test_sign_and_verify_agree_and_refuse_tampering_replays_and_other_keys():
    body = b'{"event":"published"}'
    headers = sign("k3y", body, 1_000)
    stamp, signature = headers["X-Campaign-Timestamp"], headers["X-Campaign-Signature"]
    expected = hmac.new(b"k3y", b'1000.{"event":"published"}', hashlib.sha256).hexdigest()
    assert (stamp, signature) == ("1000", f"sha256={expected}")
    assert verify("k3y", stamp, body, signature, now=1_100)
    assert verify("k3y", 1000, body.decode(), signature, now=700)  # str body, int stamp
    assert not verify("k3y", stamp, body + b" ", signature, now=1_100)  # tampered body
    assert not verify("k3y", "1001", body, signature, now=1_100)  # tampered timestamp
    assert not verify("other", stamp, body, signature, now=1_100)  # another key
    assert not verify("k3y", stamp, body, signature, now=1_301)  # too old: a replay
    assert not verify("k3y", stamp, body, signature, now=699)  # from the future
    assert verify("k3y", stamp, body, signature, now=1_900, tolerance=900)
    assert not verify("k3y", "1e3", body, signature, now=1_000)  # not a plain number
    assert not verify("k3y", stamp, body, expected, now=1_000)  # no "sha256=" prefix


# -- delivery over loopback --------------------------------------------------------------------


def test_slack_receives_block_kit_json(server, env):
    event = report()
    [delivery] = send(event, [SLACK], env)
    assert delivery == Delivery(
        "team-slack", "slack", True, 200, None, attempts=1, target="http://127.0.0.1/…"
    )
    [request] = server.received
    assert request.path == SLACK_PATH
    assert request.headers["content-type"] == "application/json"
    assert request.json() == slack_payload(event, agency="Bright Agency")


def test_teams_receives_an_adaptive_card(server, env):
    server.script(TEAMS_PATH, (202, {}, b""))  # workflows answer 202 Accepted
    event = report()
    [delivery] = send(event, [TEAMS], env)
    assert delivery.ok and delivery.status == 202
    [request] = server.received
    assert request.json() == teams_payload(event, agency="Bright Agency")
    assert "x-campaign-signature" not in request.headers  # only webhooks are signed


def test_the_webhook_receives_a_signed_body(server, env):
    event = report()
    [delivery] = send(event, [HOOK], env)
    assert delivery.ok
    [request] = server.received
    stamp = request.headers["x-campaign-timestamp"]
    signature = request.headers["x-campaign-signature"]
    assert stamp == str(int(NOW))
    assert verify(SIGNING_SECRET, stamp, request.body, signature, now=NOW + 10)
    recomputed = hmac.new(
        SIGNING_SECRET.encode(), stamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert signature == f"sha256={recomputed}"
    sent_at = datetime.fromtimestamp(NOW, UTC)
    assert request.body == encode(webhook_payload(event, agency="Bright Agency", sent_at=sent_at))
    tampered = request.body.replace(b"acme", b"evil")
    assert not verify(SIGNING_SECRET, stamp, tampered, signature, now=NOW)
    assert not verify(SIGNING_SECRET, stamp, request.body, signature, now=NOW + 301)


ONLY_ACME_REPORTS = Notifier(
    name="acme-reports", kind="slack", url="${SLACK_URL}", events=["published"], clients=["acme"]
)


@pytest.mark.parametrize(
    ("event", "delivered"),
    [
        (report("acme"), True),
        (report("globex"), False),  # another client
        (kpi_alert("acme", "2026-10", "CPA up"), False),  # an event it did not ask for
        (Event("published", "All reports are out", "", client=None), True),  # agency-wide
    ],
)
def test_notifiers_hear_only_their_events_and_clients(server, env, event, delivered):
    deliveries = send(event, [ONLY_ACME_REPORTS], env)
    assert [d.name for d in deliveries] == (["acme-reports"] if delivered else [])
    assert len(server.received) == int(delivered)


def test_each_channel_that_wants_an_event_gets_it(server, env):
    deliveries = send(report(), [SLACK, TEAMS, HOOK], env)
    assert [(d.name, d.ok) for d in deliveries] == [
        ("team-slack", True),
        ("team-teams", True),
        ("hook", True),
    ]
    assert [r.path for r in server.received] == [SLACK_PATH, TEAMS_PATH, HOOK_PATH]


def test_a_server_error_is_retried_with_a_fresh_signature(server, env):
    server.script(HOOK_PATH, (500, {}, b"oops"), (200, {}, b"ok"))
    sleeps = Sleeps()
    ticks = iter([NOW, NOW, NOW + 2])  # sent_at, then one timestamp per attempt
    [delivery] = notify(report(), [HOOK], env, sleep=sleeps, clock=lambda: next(ticks))
    assert (delivery.ok, delivery.status, delivery.attempts) == (True, 200, 2)
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 10
    first, second = server.received
    assert first.body == second.body  # the same event id: receivers can drop a duplicate
    assert first.headers["x-campaign-timestamp"] != second.headers["x-campaign-timestamp"]
    for request in (first, second):
        stamp, signature = (
            request.headers["x-campaign-timestamp"],
            request.headers["x-campaign-signature"],
        )
        assert verify(SIGNING_SECRET, stamp, request.body, signature, now=NOW)


@pytest.mark.parametrize(
    ("retry_after", "waited"), [("7", 7.0), ("3600", RETRY_AFTER_CAP), ("0", 0.0)]
)
def test_a_rate_limit_waits_what_retry_after_says_within_a_cap(server, env, retry_after, waited):
    server.script(SLACK_PATH, (429, {"Retry-After": retry_after}, b"slow down"), (200, {}, b"ok"))
    sleeps = Sleeps()
    [delivery] = send(report(), [SLACK], env, sleep=sleeps)
    assert delivery.ok and delivery.attempts == 2 and sleeps == [waited]


def test_a_channel_that_keeps_failing_is_given_up_on_and_reported(server, env):
    server.script(SLACK_PATH, (503, {}, b"down"))
    sleeps = Sleeps()
    [delivery] = send(report(), [SLACK], env, sleep=sleeps)
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 503, ATTEMPTS)
    assert delivery.error == f"HTTP 503 after {ATTEMPTS} attempts"
    assert len(sleeps) == ATTEMPTS - 1 and len(server.received) == ATTEMPTS


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (404, b"no_service", {}),
        (400, b"invalid_payload", {}),
        (403, b"", {}),
        (302, b"", {"Location": "/somewhere-else"}),  # not followed: the body stays put
    ],
)
def test_a_refusal_is_reported_without_retrying(server, env, status, body, headers):
    server.script(SLACK_PATH, (status, headers, body))
    sleeps = Sleeps()
    [delivery] = send(report(), [SLACK], env, sleep=sleeps)
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, status, 1)
    assert delivery.error.startswith(f"HTTP {status}") and "check SLACK_URL" in delivery.error
    assert body.decode() in delivery.error
    assert sleeps == [] and [r.path for r in server.received] == [SLACK_PATH]


def test_a_webhook_refusal_points_at_both_variables(server, env):
    server.script(HOOK_PATH, (401, {}, b"bad signature"))
    [delivery] = send(report(), [HOOK], env)
    assert delivery.error == (
        "HTTP 401 (bad signature): the endpoint refused the notification; "
        "check HOOK_URL and HOOK_SECRET"
    )


@pytest.mark.parametrize(
    ("notifier", "env", "message"),
    [
        (SLACK, {}, "environment variable SLACK_URL is not set"),
        (SLACK, {"SLACK_URL": "  "}, "environment variable SLACK_URL is not set"),
        (HOOK, {"HOOK_URL": "https://h.test/x"}, "environment variable HOOK_SECRET is not set"),
        (
            SLACK,
            {"SLACK_URL": "javascript:alert('slackSecretPathX9')"},
            "SLACK_URL does not hold an http(s) URL",
        ),
        (SLACK, {"SLACK_URL": "ftp://files.test/slackSecretPathX9"}, "does not hold an http(s)"),
        (
            Notifier.model_construct(
                name="raw", kind="slack", url="https://h.test/slackSecretPathX9"
            ),
            {},
            "must be an environment reference",
        ),
    ],
)
def test_a_channel_that_is_not_configured_is_reported_by_variable(notifier, env, message):
    [delivery] = notify(report(), [notifier], env, sleep=Sleeps())
    assert not delivery.ok and delivery.status is None and delivery.attempts == 0
    assert message in delivery.error
    assert "slackSecretPathX9" not in repr(delivery)


def test_an_unreachable_channel_is_retried_then_reported_without_its_url():
    def refuse(request):
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    env = {"SLACK_URL": "https://hooks.slack.test" + SLACK_PATH}
    sleeps = Sleeps()
    [delivery] = notify(report(), [SLACK], env, transport=httpx.MockTransport(refuse), sleep=sleeps)
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, None, ATTEMPTS)
    assert delivery.error == (
        f"could not reach https://hooks.slack.test/… (ConnectError) after {ATTEMPTS} attempts"
    )
    assert len(sleeps) == ATTEMPTS - 1


def test_no_address_or_secret_reaches_the_logs_or_the_outcomes(server, env, caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included: httpx logs each URL
    server.script(SLACK_PATH, (500, {}, f"echo {env['SLACK_URL']}".encode()), (200, {}, b"ok"))
    server.script(TEAMS_PATH, (404, {}, f"no workflow at {env['TEAMS_URL']}".encode()))
    server.script(HOOK_PATH, (400, {}, f"bad signature, secret {SIGNING_SECRET}?".encode()))
    deliveries = send(report(), [SLACK, TEAMS, HOOK], env)
    assert [d.ok for d in deliveries] == [True, False, False]
    assert "team-teams" in caplog.text and "HTTP 404" in caplog.text  # the failure is logged
    said = caplog.text + repr(deliveries) + "".join(str(d.error) for d in deliveries)
    for secret in ("slackSecretPathX9", "teamsSecretPathQ7", "webhookSecretPathK3", SIGNING_SECRET):
        assert secret not in said


def test_a_given_client_is_used_and_left_open(server, env):
    with httpx.Client() as http:
        [delivery] = send(report(), [SLACK], env, http=http)
        assert delivery.ok and not http.is_closed


def test_the_module_offers_what_the_pipeline_needs():
    assert set(notify_module.__all__) == {
        "ATTEMPTS",
        "RETRY_AFTER_CAP",
        "Delivery",
        "Event",
        "kpi_alert",
        "notify",
        "published",
        "stale",
        "sync_failed",
    }

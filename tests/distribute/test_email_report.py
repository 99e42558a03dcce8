"""The report email: its MIME structure, headers, content and escaping, and the dry-run file."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime

import pytest

from generator.config import Agency, Client, Recipient
from generator.distribute import email_report, mailer
from generator.errors import ConfigError
from generator.site.report import Report
from tests.report_data import HOSTILE, client, make_report

URL = "https://reports.lighthouse.example/acme/2026-10/"
RECIPIENTS = [
    {"email": "dana@acme.example", "name": "Dana"},
    {"email": "lee@acme.example", "kind": "cc", "name": "Lee Park"},
    {"email": "board@acme.example", "kind": "bcc"},
    {"email": "DANA@acme.example", "name": "Dana again"},
]
RECIPIENT = Recipient(email="dana@acme.example", name="Dana")


def with_recipients(recipients: list[dict], **changes) -> Client:
    data = client().model_dump(exclude={"folder"})
    return Client.model_validate({**data, "recipients": recipients, **changes})


def agency(**changes) -> Agency:
    return Agency.model_validate(
        {
            "name": "Lighthouse Digital",
            "sender": "reports@lighthouse.example",
            "email": {"from_name": "Diego at Lighthouse", "reply_to": "diego@lighthouse.example"},
            **changes,
        }
    )


@pytest.fixture(scope="module")
def report():
    return make_report()


@pytest.fixture(scope="module")
def images(report):
    return email_report.charts(report, with_recipients(RECIPIENTS))


@pytest.fixture(scope="module")
def sent(report, images):
    """The client's messages, as bytes parsed back the way a mail client reads them."""
    out = email_report.outgoing(
        report,
        with_recipients(RECIPIENTS),
        agency(),
        images=images,
        report_url=URL,
        now=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )
    return {o.recipient: (o, parse(o.message.as_bytes())) for o in out}


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_public_api():
    assert email_report.__all__ == ["WIDTH", "InlineImage", "charts", "compose", "outgoing"]


def test_charts_are_inline_pngs_with_content_ids(images):
    assert [i.filename for i in images] == ["daily_spend.png", "platform_mix.png", "targets.png"]
    for image in images:
        assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert re.fullmatch(r"[a-z_]+\.[0-9a-f]{16}@campaign-report", image.cid)
        assert image.width == email_report.WIDTH and image.height > 50
        assert image.alt
    assert "ROAS 3.92x (target 2.00x, on track)" in images[2].alt


def test_one_message_per_person_and_address(sent):
    assert sorted(sent) == ["board@acme.example", "dana@acme.example", "lee@acme.example"]
    assert len({o.message_id for o, _ in sent.values()}) == 3


def test_structure_is_alternative_of_text_and_related_html(sent):
    _, message = sent["dana@acme.example"]
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.get_payload()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    kinds = [p.get_content_type() for p in related.get_payload()]
    assert kinds == ["text/html", "image/png", "image/png", "image/png"]
    for part in related.get_payload()[1:]:
        assert part.get_content_disposition() == "inline"


def test_every_cid_in_the_html_has_its_part(sent):
    _, message = sent["dana@acme.example"]
    related = message.get_payload()[1]
    ids = {p["Content-ID"].strip("<>") for p in related.get_payload()[1:]}
    used = set(re.findall(r'src="cid:([^"]+)"', html_of(message)))
    assert used == ids and len(ids) == 3
    assert all("@" in cid for cid in ids)


def test_headers(sent):
    outgoing, message = sent["board@acme.example"]
    assert str(message["From"]) == "Diego at Lighthouse <reports@lighthouse.example>"
    assert str(message["Reply-To"]) == "diego@lighthouse.example"
    assert [a.addr_spec for a in message["To"].addresses] == ["dana@acme.example"]
    assert str(message["Cc"]) == "Lee Park <lee@acme.example>"
    assert message["Bcc"] is None
    assert b"board@acme.example" not in outgoing.message.as_bytes()
    assert str(message["Subject"]) == "Acme & Sons: your October 2026 marketing report"
    assert re.fullmatch(r"<[^@<>]+@lighthouse\.example>", str(message["Message-ID"]))
    assert message["Date"].datetime == datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_text_part_greets_and_gives_the_numbers(sent):
    text = text_of(sent["dana@acme.example"][1])
    assert text.startswith(
        "Hi Dana,\n\nHere is your October 2026 marketing report for Acme & Sons."
    )
    assert "The numbers (change on September 2026)" in text
    assert re.search(r"ROAS +3\.92x +-0\.2% +on track \(target 2\.00x\)", text)
    assert re.search(r"CPA +\$20\.39 +\+0\.2% +at risk \(target \$20\.00\)", text)
    assert "Needs attention\n- CPA $20.39 is at risk (target $20.00)" in text
    assert "- Facebook account acc-F could not be refreshed <b>today</b>." in text
    assert f"The full report: {URL}" in text
    assert text.rstrip().endswith(
        "Lighthouse Digital prepared this report for Acme & Sons. Reply to this email with "
        "any question."
    )


def test_neutral_greeting_without_a_name(sent):
    assert text_of(sent["board@acme.example"][1]).startswith("Hello,\n")
    assert ">Hello,</p>" in html_of(sent["board@acme.example"][1])


def test_html_content(sent):
    page = html_of(sent["lee@acme.example"][1])
    assert ">Hi Lee Park,</p>" in page
    assert ">Acme &amp; Sons, October 2026</div>" in page
    assert ">3.92x</td>" in page and ">on track (target 2.00x)</td>" in page
    assert "On Oct 14, conversions on Google Ads were 19% of a usual day" in page
    assert "Facebook account acc-F could not be refreshed &lt;b&gt;today&lt;/b&gt;." in page
    assert f'<a href="{URL}"' in page and "Open the full report</a>" in page


def test_hostile_names_arrive_escaped(sent):
    page = html_of(sent["dana@acme.example"][1])
    assert "<script" not in page.lower() and "<b>" not in page
    assert "Summer &lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in page
    assert HOSTILE in text_of(sent["dana@acme.example"][1])  # plain text is inert as it is


def test_nothing_remote_and_no_stylesheet(sent):
    page = html_of(sent["dana@acme.example"][1]).lower()
    for banned in ("<script", "<link", "<style", "<iframe", "url(", "@import", 'src="http'):
        assert banned not in page
    assert all(src.startswith("cid:") for src in re.findall(r'src="([^"]*)"', page))
    assert 'width="600"' in page and "max-width:600px" in page


@pytest.mark.parametrize("url", [None, "javascript:alert(1)", "/relative/"])
def test_no_button_without_an_http_url(report, url):
    message = email_report.compose(
        report, with_recipients(RECIPIENTS), agency(), RECIPIENT, report_url=url
    )
    page, text = html_of(message), text_of(message)
    assert "<a " not in page and "Open the full report" not in page
    assert "The full report" not in text and "href=" not in page


def test_without_charts_the_html_is_a_single_part(report):
    message = parse(email_report.compose(report, client(), agency(), RECIPIENT).as_bytes())
    assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]
    assert message["To"] is not None and message["Cc"] is None


def test_without_to_recipients_the_header_says_undisclosed(report):
    bcc_only = with_recipients([{"email": "board@acme.example", "kind": "bcc"}])
    message = email_report.compose(report, bcc_only, agency(), bcc_only.recipients[0])
    assert str(parse(message.as_bytes())["To"]) == "undisclosed-recipients:;"


def test_a_missing_sender_is_a_config_error(report):
    with pytest.raises(ConfigError, match=r"agency\.yml: sender: set sender:"):
        email_report.compose(report, client(), agency(sender=None), RECIPIENT)


def test_line_breaks_in_names_cannot_inject_headers(report):
    evil = with_recipients(RECIPIENTS, name="Acme\r\nBcc: spy@evil.example")
    message = email_report.compose(
        report, evil, agency(name="Light\nhouse"), evil.recipients[0], report_url=URL
    )
    raw = message.as_bytes()
    parsed = parse(raw)
    assert parsed["Bcc"] is None and b"\nBcc:" not in raw
    assert (
        str(parsed["Subject"]) == "Acme Bcc: spy@evil.example: your October 2026 marketing report"
    )
    assert "Light house prepared this report" in text_of(parsed)


def test_dry_run_writes_parseable_eml_files(tmp_path, sent):
    log = mailer.SentLog(tmp_path / "sent.jsonl")
    messages = [o for o, _ in sent.values()]
    outcomes = mailer.dry_run(messages, tmp_path / "outbox", log)
    assert [o.status for o in outcomes] == ["dry-run"] * 3
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 3
    for path in files:
        assert re.fullmatch(r"acme-2026-10-[0-9a-f]{12}\.eml", path.name)
        message = parse(path.read_bytes())
        assert message.get_content_type() == "multipart/alternative"
        assert message["Message-ID"] in {o.message_id for o in messages}
    assert [e["status"] for e in log.entries()] == ["dry-run"] * 3
    assert not log.already_sent("acme", "2026-10", "dana@acme.example")


def test_eml_names_never_come_from_raw_input(tmp_path, sent):
    outgoing = sent["dana@acme.example"][0]
    odd = mailer.Outgoing("../../etc", "2026/10", outgoing.recipient, outgoing.message)
    path = mailer.write_eml(odd, tmp_path)
    assert path.parent == tmp_path and re.fullmatch(r"[0-9a-f-]+\.eml", path.name)


def test_an_address_with_a_control_character_is_a_config_error(report):
    odd = with_recipients([{"email": "dana\x00@acme.example"}])
    with pytest.raises(ConfigError, match="cannot be used as an email address"):
        email_report.compose(report, odd, agency(), RECIPIENT)


def test_alerts_beyond_five_point_to_the_report(report):
    warnings = [f"Account {n} is stale." for n in range(6)]
    noisy = Report({**report.summary, "warnings": warnings}, report.frames)
    text = text_of(email_report.compose(noisy, client(), agency(), RECIPIENT))
    alerts = text.split("Needs attention\n")[1].split("\n\n")[0].splitlines()
    assert len(alerts) == 6 and alerts[-1] == "- And 3 more in the report."

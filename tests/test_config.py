from datetime import date
from pathlib import Path

import pytest

from generator.config import (
    PeerGroup,
    load_agency,
    load_client,
    load_clients,
    resolve_credentials,
    validate_content,
)
from generator.errors import ConfigError


def _edit(folder: Path, old: str, new: str) -> Path:
    path = folder / "client.yml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_demo_content_is_valid(content):
    agency = load_agency(content)
    clients = load_clients(content)
    assert agency.name == "Lighthouse Digital"
    assert [c.slug for c in clients] == ["brightline", "harbor", "northwind"]
    northwind = clients[2]
    assert northwind.currency == "USD"
    assert northwind.accounts[1].account_id == "5930214867"
    assert northwind.kpi_targets["cpa"].tolerance == 0.15
    assert northwind.kpi_targets["roas"].target == 3.0
    assert [p.name for p in northwind.commentary] == ["notes-from-your-team.md"]
    assert validate_content(content) == []


def test_one_client_by_slug(content):
    assert [c.slug for c in load_clients(content, only="harbor")] == ["harbor"]
    with pytest.raises(ConfigError, match="no client 'nobody'"):
        load_clients(content, only="nobody")


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        ("currency: USD", "currency: dollars", "currency", "got 'dollars'"),
        (
            "timezone: America/New_York",
            "timezone: Mars/Olympus",
            "timezone",
            "'Mars/Olympus' is not an IANA time zone",
        ),
        ("platform: google_ads", "platform: gogle_ads", "accounts[0].platform", "'gogle_ads'"),
        ("roas: 3.0", "roas: -1", "kpi_targets.roas.target", "greater than 0"),
        ("roas: 3.0", "roaz: 3.0", "kpi_targets", "unknown KPI 'roaz'"),
        (
            "formula: (value * 0.45 - spend) / spend",
            "formula: __import__('os')",
            "custom_kpis.profit_roas.formula",
            "__import__",
        ),
        (
            "formula: (value * 0.45 - spend) / spend",
            "formula: value / revenue",
            "custom_kpis.profit_roas.formula",
            "unknown name 'revenue'",
        ),
        (
            "industry: ecommerce/apparel",
            "industri: ecommerce/apparel",
            "industri",
            "Extra inputs are not permitted",
        ),
        (
            "    multiplier: 1.0",
            "    multiplier: 1.0\n    value: 3",
            "conversion_value_rules[0]",
            "exactly one of",
        ),
        (
            "email: dana@northwind.example",
            "email: not-an-email",
            "recipients[0].email",
            "should match pattern",
        ),
    ],
)
def test_a_broken_client_names_file_line_field_and_value(content, old, new, field, fragment):
    path = _edit(content / "northwind", old, new)
    with pytest.raises(ConfigError) as err:
        load_client(path)
    message = str(err.value)
    assert str(path) in message
    assert field in message
    assert fragment in message
    assert "line " in message


def test_the_line_number_points_at_the_bad_field(content):
    path = _edit(content / "northwind", "currency: USD", "currency: usd")
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "currency:" in t)
    with pytest.raises(ConfigError, match=f"line {line}: currency"):
        load_client(path)


def test_several_problems_are_all_listed(content):
    _edit(content / "northwind", "currency: USD", "currency: usd")
    path = _edit(content / "northwind", "timezone: America/New_York", "timezone: Nowhere")
    with pytest.raises(ConfigError, match="2 problems") as err:
        load_client(path)
    assert "currency" in str(err.value) and "timezone" in str(err.value)


def test_broken_yaml_gives_line_and_column(content):
    path = content / "harbor" / "client.yml"
    path.write_text("slug: harbor\nname: [unclosed\ncurrency: USD\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: not valid YAML"):
        load_client(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "the file is empty"), ("- just\n- a list\n", "must be a mapping")],
)
def test_empty_or_non_mapping_files(content, text, message):
    path = content / "harbor" / "client.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_client(path)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_client(tmp_path / "ghost")
    bad = tmp_path / "bin" / "client.yml"
    bad.parent.mkdir()
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_client(bad)


def test_a_literal_secret_is_refused_and_never_echoed(content):
    secret = "1//super-secret-refresh-value"
    path = _edit(
        content / "harbor", "refresh_token: ${GOOGLE_ADS_REFRESH_TOKEN}", f"refresh_token: {secret}"
    )
    with pytest.raises(ConfigError, match="must be an environment reference") as err:
        load_client(path)
    assert secret not in str(err.value)
    assert err.value.value == "***"


def test_slug_must_match_the_folder(content):
    path = _edit(content / "harbor", "slug: harbor", "slug: harbour")
    with pytest.raises(ConfigError, match="differs from its folder name 'harbor'"):
        load_client(path)


def test_an_account_listed_twice(content):
    path = content / "harbor" / "client.yml"
    text = path.read_text()
    start = text.index("  - platform: google_ads")
    end = text.index("kpi_targets:")
    path.write_text(text[:end] + text[start:end] + text[end:])
    with pytest.raises(ConfigError, match="listed twice"):
        load_client(path)


def test_resolve_credentials_reads_the_environment(content):
    client = load_client(content / "harbor")
    account = client.accounts[0]
    env = {
        "GOOGLE_ADS_DEVELOPER_TOKEN": "d",
        "GOOGLE_ADS_CLIENT_ID": "i",
        "GOOGLE_ADS_CLIENT_SECRET": "s",
        "GOOGLE_ADS_REFRESH_TOKEN": "r",
    }
    resolved = resolve_credentials(client, account, env)
    assert resolved["refresh_token"] == "r"
    assert resolved["login_customer_id"] == "9990001111"
    with pytest.raises(ConfigError, match="GOOGLE_ADS_REFRESH_TOKEN is not set") as err:
        resolve_credentials(client, account, {k: v for k, v in env.items() if "REFRESH" not in k})
    assert "credentials.refresh_token" in str(err.value)


def test_validate_content_collects_every_problem(content):
    (content / "agency.yml").write_text("name: ''\n")
    _edit(content / "harbor", "currency: USD", "currency: X")
    problems = validate_content(content)
    assert len(problems) == 2
    assert {Path(p.file).name for p in problems} == {"agency.yml", "client.yml"}


def test_agency_errors(content):
    (content / "agency.yml").write_text("name: Agency\ntimezone: Atlantis\n")
    with pytest.raises(ConfigError, match="not an IANA time zone"):
        load_agency(content)


FUNNEL = "    steps: [session_start, view_item, add_to_cart, begin_checkout, purchase]"


def test_a_funnel_takes_filters_order_exclusions_and_breakdowns(content):
    rich = """    steps:
      - session_start
      - event: page_view
        label: Checkout page
        filters: [{column: page_path, op: contains, value: /checkout}]
      - {event: purchase, filters: [{column: device_category, op: in, value: [mobile, tablet]}]}
    window_days: 3
    order: strict
    exclusions: [refund]
    breakdowns: [device, source_medium, country]"""
    funnel = load_client(_edit(content / "northwind", FUNNEL, rich)).funnels[0]
    assert [s.event for s in funnel.steps] == ["session_start", "page_view", "purchase"]
    assert funnel.steps[1].as_spec() == {
        "event": "page_view",
        "label": "Checkout page",
        "filters": [{"column": "page_path", "op": "contains", "value": "/checkout"}],
    }
    assert funnel.steps[2].filters[0].value == ["mobile", "tablet"]
    assert (funnel.window_days, funnel.order) == (3, "strict")
    assert [e.event for e in funnel.exclusions] == ["refund"]
    assert funnel.breakdowns == ["device", "source_medium", "country"]
    # the demo's funnels: a week's window, in order, split by channel and device
    harbor = load_client(content / "harbor").funnels[0]
    assert (harbor.window_days, harbor.order, harbor.breakdowns) == (
        7,
        "ordered",
        ["channel", "device"],
    )


@pytest.mark.parametrize(
    ("new", "field", "fragment"),
    [
        ("    steps: [session_start]", "funnels[0].steps", "at least 2"),
        ("    steps: [session_start, view item]", "funnels[0].steps[1].event", "'view item'"),
        (FUNNEL + "\n    order: sideways", "funnels[0].order", "'sideways'"),
        (FUNNEL + "\n    window_days: 400", "funnels[0].window_days", "less than or equal to 90"),
        (FUNNEL + "\n    breakdowns: [browser]", "funnels[0].breakdowns[0]", "'browser'"),
        (FUNNEL + "\n    breakdowns: [device, device]", "funnels[0].breakdowns", "listed twice"),
        (
            "    steps: [a, {event: x, filters: [{column: path, op: equals, value: a}]}]",
            "funnels[0].steps[1].filters[0].column",
            "'path'",
        ),
        (
            "    steps: [a, {event: x, filters: [{column: country, op: in, value: US}]}]",
            "funnels[0].steps[1].filters[0]",
            "'in' takes a list",
        ),
        (
            FUNNEL + "\n  - name: checkout\n    steps: [a, b]",
            "funnels",
            "two funnels are named 'checkout'",
        ),
    ],
)
def test_a_broken_funnel_names_the_field_and_value(content, new, field, fragment):
    path = _edit(content / "northwind", FUNNEL, new)
    with pytest.raises(ConfigError) as err:
        load_client(path)
    message = str(err.value)
    assert str(path) in message and field in message and fragment in message, message


def test_peer_groups_inline_or_named_in_agency_yml(content):
    agency = load_agency(content)
    harbor = load_client(content / "harbor")
    assert agency.peer_group(harbor) == (None, PeerGroup(industry="local/dental", region="us_west"))
    path = content / "agency.yml"
    path.write_text(
        path.read_text()
        + "peer_groups:\n  west-coast-health:\n    industry: health\n    region: us_west\n"
        + "    platforms: [google_ads, facebook]\n    spend_band: same\n"
        + "benchmarks: {window_days: 60, k_median: 8, k_quartiles: 12, max_share: 0.25}\n"
    )
    _edit(content / "harbor", "peer_group: {industry: local/dental, region: us_west}",
          "peer_group: west-coast-health")  # fmt: skip
    agency, harbor = load_agency(content), load_client(content / "harbor")
    name, group = agency.peer_group(harbor)
    assert name == "west-coast-health" and group.platforms == ["google_ads", "facebook"]
    assert group.spend_band == "same"
    assert (agency.benchmarks.window_days, agency.benchmarks.k_median) == (60, 8)
    assert validate_content(content) == []
    _edit(content / "harbor", "peer_group: west-coast-health", "peer_group: east-coast")
    problems = validate_content(content)
    assert len(problems) == 1 and "'east-coast' is not defined" in str(problems[0])
    assert "west-coast-health" in str(problems[0])  # what is defined


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("k_median: 3", "greater than or equal to 5"),  # the anonymity minimums only go up
        ("k_quartiles: 9", "greater than or equal to 10"),
        ("max_share: 0.5", "less than or equal to 0.3"),
        ("k_median: 20", "k_quartiles must be at least k_median"),
        ("window_days: 5000", "less than or equal to 365"),
    ],
)
def test_benchmark_rules_cannot_weaken_anonymity(content, setting, fragment):
    path = content / "agency.yml"
    path.write_text(path.read_text() + f"benchmarks: {{{setting}}}\n")
    with pytest.raises(ConfigError, match=fragment):
        load_agency(content)


def test_a_peer_group_names_only_known_platforms(content):
    _edit(content / "harbor", "peer_group: {industry: local/dental, region: us_west}",
          "peer_group: {platforms: [myspace]}")  # fmt: skip
    with pytest.raises(ConfigError, match="peer_group") as caught:
        load_client(content / "harbor")
    assert "myspace" in str(caught.value)


CREATIVES = """creatives:
  rights: Licensed until 2027-12-31; ask legal@northwind.example
  tags:
    discount: "headline contains 'sale' or '%'"
    short-video: duration <= 15 and format is 'video'
  tests:
    - name: Spring hero
      variants: [120001, "ad-2"]
      metric: ctr
      start: 2026-03-01
      end: 2026-03-31
    - {name: Open-ended, variants: [a, b, c], start: 2026-04-01}
"""


def _with_creatives(content: Path, text: str) -> Path:
    path = content / "northwind" / "client.yml"
    path.write_text(path.read_text() + text)
    return path


def test_creative_tags_and_tests_from_client_yml(content):
    creatives = load_client(_with_creatives(content, CREATIVES)).creatives
    assert creatives.tags == {
        "discount": "headline contains 'sale' or '%'",
        "short-video": "duration <= 15 and format is 'video'",
    }
    assert {name: rule.fields for name, rule in creatives.rules().items()} == {
        "discount": {"headline"},
        "short-video": {"duration", "format"},
    }
    spring, open_ended = creatives.tests
    assert spring.variants == ["120001", "ad-2"]  # YAML's numbers become the data's ids
    assert (spring.metric, spring.start, spring.end) == ("ctr", date(2026, 3, 1), date(2026, 3, 31))
    assert (open_ended.metric, open_ended.end) == ("cvr", None)
    assert load_client(content / "harbor").creatives.tags == {}


def _tests(*tests: str) -> str:
    return "  tests:\n" + "".join(f"    - {{{t}}}\n" for t in tests)


TEST = "name: T, variants: [a, b], start: 2026-03-01"


@pytest.mark.parametrize(
    ("section", "field", "fragment"),
    [
        (
            "  tags: {discount: \"headline contians 'sale'\"}",
            "creatives.tags",
            "tag 'discount': tag rule \"headline contians 'sale'\", at character 10",
        ),
        ("  tags: {Discount: 'width > 1'}", "creatives.tags", "tag name 'Discount' must be"),
        ("  tags: {'format:sale': 'width > 1'}", "creatives.tags", "holds ':', which marks"),
        ("  tags: {" + "x" * 41 + ": 'width > 1'}", "creatives.tags", "1-40 lowercase"),
        ('  tags: {"sale\\n": width > 1}', "creatives.tags", "tag name 'sale\\n' must be"),
        ("  tags: {x: 5}", "creatives.tags.x", "valid string"),
        (
            "  tags: {" + ", ".join(f"t{i}: 'width > 1'" for i in range(31)) + "}",
            "creatives.tags",
            "at most 30 items",
        ),
        ("  tags: {x: \"headline is '" + "y" * 300 + "'\"}", "creatives.tags", "at most 300"),
        (_tests(TEST + ", end: 2026-02-01"), "creatives.tests[0]", "ends (2026-02-01) before"),
        (_tests(TEST + ", metric: roas"), "creatives.tests[0].metric", "'ctr' or 'cvr'"),
        (_tests("name: T, variants: [a], start: 2026-03-01"), "creatives.tests[0].variants",
         "at least 2"),
        (_tests("name: T, variants: [7, '7'], start: 2026-03-01"), "creatives.tests[0].variants",
         "ad '7' is listed twice"),
        (_tests(f"name: T, variants: [{', '.join('abcdefghijk')}], start: 2026-03-01"),
         "creatives.tests[0].variants", "at most 10"),
        (_tests("name: '', variants: [a, b], start: 2026-03-01"), "creatives.tests[0].name",
         "at least 1"),
        (_tests("name: T, variants: [a, b]"), "creatives.tests[0].start", "required"),
        (_tests(TEST, TEST.replace("T,", "t,")), "creatives.tests", "two tests are named 'T'"),
        (_tests(*(TEST.replace("T,", f"t{i},") for i in range(51))), "creatives.tests",
         "at most 50"),
    ],
)  # fmt: skip
def test_a_broken_creatives_section_names_the_field(content, section, field, fragment):
    path = _with_creatives(content, "creatives:\n" + section.rstrip("\n") + "\n")
    with pytest.raises(ConfigError) as err:
        load_client(path)
    message = str(err.value)
    assert str(path) in message and field in message and fragment in message, message

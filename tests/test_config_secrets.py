"""A literal secret in credentials or options is refused; ids, URLs and words are not (9a)."""

from pathlib import Path

import pytest

from generator.config import load_client
from generator.errors import ConfigError
from generator.secretlike import looks_random

#: random-looking keys of the shapes platforms issue (made up, none is real)
RANDOM = [
    "aZ3kQ9xLm2PqR7tY4bNc",  # 20 characters of base62
    "ghp_Cy6TR-ezvXVE_XayRMCjTlF054YhWIAG_Evd",
    "EAAGm0PX4ZCpsBAKZAZCZAiZBZCZAZBq5ZBZC0ZCZAoZD",
    "1//0gLxAbCdEfGhIjKlMnOpQrStUvWxYz-0123456789abcdefABCDEF",
    "3c6e0b8a9c15224a8228b9a98ca1531d5d5b5a5b",  # 40 hex digits
    "sk-proj-KbzHaA4yVljl5JJ8CqzGLUUpaDT9x5qfuHgW4",
    "Bearer ABcdeFGH93KL-NOPQ_STUv",
]
#: what an options block legitimately holds
PLAIN = [
    "999-000-1111",
    "act_2039485761",
    "7012345678901234567",
    "8a1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",  # a UUID is an id
    "BrandSearchCampaign2024",
    "Campaign_Q4_2026_BlackFriday_US",
    "https://api.example.com/v2/Reports/2024/January?fields=spend,clicks",
    "/home/diego/Exports/Harbor_Dental_2024.csv",
    "${CAMPAIGN_EXPORTS}/harbor/offline.xlsx",
    "customers/1234567890/campaigns/987654321",
    "1234567890-abc123def456.apps.googleusercontent.com",
    "urn:li:sponsoredAccount:508765432",
    "Spring sale — all stores, 2026-03-01 to 2026-03-31",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
]


@pytest.mark.parametrize("text", RANDOM)
def test_random_looking_literals_are_recognised(text):
    assert looks_random(text)


@pytest.mark.parametrize("text", PLAIN)
def test_ids_urls_paths_and_words_are_not(text):
    assert not looks_random(text)


def _meta_account(content: Path, lines: str) -> Path:
    """Add lines after harbor's Meta ``access_token``: its credentials (indented 6), or the
    account itself (indented 4)."""
    path = content / "harbor" / "client.yml"
    old = "      access_token: ${META_ACCESS_TOKEN}\n"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, old + lines, 1))
    return path


@pytest.mark.parametrize(
    ("lines", "field", "secret", "why"),
    [
        ("      bearer: abc123\n", "credential 'bearer'", "abc123", "is named like a secret"),
        (
            "      session: aZ3kQ9xLm2PqR7tY4bNc\n",
            "credential 'session'",
            "aZ3kQ9xLm2PqR7tY4bNc",
            "looks like a secret",
        ),
        (
            "    options:\n      api_token: hunter2\n",
            "option 'api_token'",
            "hunter2",
            "is named like a secret",
        ),
        (
            "    options:\n      header: Bearer EAAGm0PX4ZCpsBAKZAZCZAiZBZCZAZBq5\n",
            "option 'header'",
            "EAAGm0PX4ZCpsBAKZAZCZAiZBZCZAZBq5",
            "looks like a secret",
        ),
        (
            "    options:\n      headers:\n"
            "        - {name: X-Key, value: 3c6e0b8a9c15224a8228b9a98c}\n",
            "option 'headers[0].value'",
            "3c6e0b8a9c15224a8228b9a98c",
            "looks like a secret",
        ),
    ],
)
def test_a_literal_secret_in_credentials_or_options_is_refused(content, lines, field, secret, why):
    path = _meta_account(content, lines)
    with pytest.raises(ConfigError) as err:
        load_client(path)
    message = str(err.value)
    assert f"{field} {why}" in message
    assert "so it must be an environment reference like ${" in message
    assert "line " in message
    assert secret not in message
    assert err.value.value == "***"


def test_plain_options_and_literal_ids_pass(content):
    options = "".join(f"        - {text!r}\n" for text in PLAIN)
    path = _meta_account(
        content,
        "      login_customer_id: '999-000-1111'\n"
        "      client_id: 1234567890-abc123def456.apps.googleusercontent.com\n"
        "      api_token_env: ${META_APP_TOKEN}\n"
        f"    options:\n      values:\n{options}"
        "      report_url: https://graph.example.com/v19.0/act_2039485761/insights\n"
        "      level: ad\n      limit: 500\n      breakdowns: [age, gender]\n",
    )
    account = load_client(path).accounts[1]
    assert account.options["values"] == PLAIN
    assert account.credentials["client_id"].startswith("1234567890-")

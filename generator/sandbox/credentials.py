"""The sandbox's own credentials, and the environment the demo clients' ``${VAR}``s resolve to.

They open nothing outside the sandbox, but the code treats them exactly like real secrets
(redacted from logs, never stored), so the demo exercises the same paths a real run does.
"""

from __future__ import annotations

__all__ = ["DEMO_CREDENTIALS", "DEMO_ENVIRONMENT", "GOOGLE_MANAGER_ID"]

GOOGLE_MANAGER_ID = "9990001111"

DEMO_CREDENTIALS: dict[str, dict[str, str]] = {
    "google_ads": {
        "developer_token": "sbx-dev-Q2xlYXJseVNhbmRib3g",
        "client_id": "sandbox-client.apps.googleusercontent.com",
        "client_secret": "sbx-secret-R29vZ2xlU2FuZGJveA",
        "refresh_token": "1//sbx-refresh-TmV2ZXJSZWFsbHlWYWxpZA",
        "login_customer_id": GOOGLE_MANAGER_ID,
    },
}

#: What ``${VAR}`` references in content/*/client.yml resolve to when the demo runs.
DEMO_ENVIRONMENT: dict[str, str] = {
    "GOOGLE_ADS_DEVELOPER_TOKEN": DEMO_CREDENTIALS["google_ads"]["developer_token"],
    "GOOGLE_ADS_CLIENT_ID": DEMO_CREDENTIALS["google_ads"]["client_id"],
    "GOOGLE_ADS_CLIENT_SECRET": DEMO_CREDENTIALS["google_ads"]["client_secret"],
    "GOOGLE_ADS_REFRESH_TOKEN": DEMO_CREDENTIALS["google_ads"]["refresh_token"],
}

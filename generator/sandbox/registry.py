"""Which platforms the sandbox emulates: one module each, found by name.

A platform module offers ``routes()`` (mounted under ``/<name>``), ``CREDENTIALS`` (the
credential names and sandbox values a connector needs) and ``ENVIRONMENT`` (the ``${VAR}``s
of the demo clients' client.yml and their sandbox values). Modules not written yet are
simply not served.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

__all__ = ["MODULES", "platform_modules"]

MODULES = {
    name: f"generator.sandbox.{name}"
    for name in (
        "google_ads",
        "meta",
        "linkedin",
        "ga4",
        "x",
        "tiktok",
        "microsoft_ads",
        "pinterest",
        "snapchat",
        "amazon_ads",
        "reddit",
        "file",
    )
}


@cache
def platform_modules() -> dict[str, ModuleType]:
    """The emulated platforms that exist, by connector name."""
    found = {}
    for name, path in MODULES.items():
        try:
            found[name] = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:  # a module that exists but is broken must not hide
                raise
    return found

"""Where the packaged site templates, base MkDocs configuration and demo content live.

In a source checkout they are the repository's ``site_templates/``, ``mkdocs.yml`` and
``content/``; in an installed wheel they are shipped inside the package
(``generator/site_templates/``, ``generator/demo_content/``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from generator.errors import BuildError

__all__ = ["base_config", "demo_content", "templates_dir"]

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def templates_dir() -> Path:
    for candidate in (_PACKAGE / "site_templates", _PACKAGE.parent / "site_templates"):
        if (candidate / "pages").is_dir():
            return candidate
    raise BuildError("site templates not found; reinstall campaign-reporter")


@cache
def base_config() -> Path:
    for candidate in (
        _PACKAGE / "site_templates" / "mkdocs.base.yml",
        _PACKAGE.parent / "mkdocs.yml",
    ):
        if candidate.is_file():
            return candidate
    raise BuildError("the base mkdocs.yml was not found; reinstall campaign-reporter")


@cache
def demo_content() -> Path:
    """The demo agency's content folder (three clients that the sandbox knows)."""
    for candidate in (_PACKAGE / "demo_content", _PACKAGE.parent / "content"):
        if (candidate / "agency.yml").is_file():
            return candidate
    raise BuildError("the demo content was not found; reinstall campaign-reporter")

"""The sandbox's own credentials, and the environment the demo clients' ``${VAR}``s resolve to.

Each emulated platform declares its own (``CREDENTIALS``, ``ENVIRONMENT`` in its module);
this gathers them. They open nothing outside the sandbox, but the code treats them exactly like
real secrets (redacted from logs, never stored), so the demo exercises the paths a real run does.
"""

from __future__ import annotations

from generator.sandbox.registry import platform_modules

__all__ = ["DEMO_CREDENTIALS", "DEMO_ENVIRONMENT"]

#: connector name -> its credential names and sandbox values
DEMO_CREDENTIALS: dict[str, dict[str, str]] = {
    name: dict(module.CREDENTIALS) for name, module in platform_modules().items()
}
#: What ``${VAR}`` references in content/*/client.yml resolve to when the demo runs.
DEMO_ENVIRONMENT: dict[str, str] = {
    key: value
    for module in platform_modules().values()
    for key, value in module.ENVIRONMENT.items()
}

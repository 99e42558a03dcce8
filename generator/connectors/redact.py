"""Keep secrets out of logs: a registry of secret values and a logging filter that masks them.

Every credential a connector resolves is registered here; ``RedactingFilter`` (installed on
the root handlers by ``install``) replaces any registered value in a log record's message and
arguments with ``***``. Messages of our own errors never contain credentials to begin with.
"""

from __future__ import annotations

import logging
import threading

__all__ = ["RedactingFilter", "install", "redact", "register_secret"]

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value (short values are ignored: masking them would garble text)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks registered secrets in a record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the filter to ``logger``'s handlers (root by default) and to the logger itself."""
    logger = logger or logging.getLogger()
    flt = RedactingFilter()
    logger.addFilter(flt)
    for handler in logger.handlers:
        handler.addFilter(flt)
    return flt

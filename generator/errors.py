"""The one exception tree of Campaign Reporter.

Every error the package raises on purpose is a ``ReportError``; lower-layer exceptions
(pyarrow, duckdb, httpx, pydantic, yaml) are translated at the boundary where they happen, so a
caller never has to know which library failed. Each message says what went wrong *and* how to
fix it, and never contains a secret.

    ReportError
    ├── ConfigError            a broken agency.yml / client.yml (file, field path, bad value)
    ├── SchemaError            a table that does not fit a canonical schema (table, column, row)
    ├── LakeError              the Parquet lake could not be read or written
    ├── BuildError             rendering or building a report site failed
    ├── PublishError           sites could not be published (destination, missing build, git)
    └── ConnectorError         a platform call failed (platform, request, message)
        ├── AuthFailed         credentials rejected or missing; re-authorise
        ├── RateLimited        the platform asked us to wait (retry_after seconds)
        ├── ApiVersionRetired  the pinned API version is sunset; bump the named constant
        ├── PlatformUnavailable  5xx / timeouts past the retry bound; data marked stale
        ├── ResponseInvalid    the platform answered something we cannot read
        ├── JobFailed          an asynchronous report job failed (retry smaller ranges)
        ├── JobTimedOut        a report job outlived its deadline (resume it next run)
        └── ExportInvalid      a file export is missing or has a bad cell (file, line, column)
"""

from __future__ import annotations

__all__ = [
    "ApiVersionRetired",
    "AuthFailed",
    "BuildError",
    "ConfigError",
    "ConnectorError",
    "ExportInvalid",
    "JobFailed",
    "JobTimedOut",
    "LakeError",
    "PlatformUnavailable",
    "PublishError",
    "RateLimited",
    "ReportError",
    "ResponseInvalid",
    "SchemaError",
]


class ReportError(Exception):
    """Base of every error Campaign Reporter raises on purpose."""


class ConfigError(ReportError):
    """A configuration file is missing, unreadable or invalid.

    Attributes:
        file: the file that is wrong.
        field: dotted path of the offending field ("" for the whole file).
        value: the offending value, already rendered as text (never a resolved secret).
    """

    def __init__(self, message: str, *, file: str = "", field: str = "", value: str = "") -> None:
        self.file = file
        self.field = field
        self.value = value
        where = file + (f": {field}" if field else "")
        super().__init__(f"{where}: {message}" if where else message)


class SchemaError(ReportError):
    """A table does not fit its canonical schema.

    Attributes:
        table: canonical table name, e.g. ``ad_performance``.
        column: the offending column.
        row: index of the first bad row, or ``None`` when the whole column is wrong.
    """

    def __init__(self, message: str, *, table: str, column: str = "", row: int | None = None):
        self.table = table
        self.column = column
        self.row = row
        where = table + (f".{column}" if column else "")
        at = f" (first bad row {row})" if row is not None else ""
        super().__init__(f"{where}: {message}{at}")


class LakeError(ReportError):
    """The Parquet lake could not be read or written."""


class BuildError(ReportError):
    """A report page or site could not be rendered or built."""


class PublishError(ReportError):
    """Sites could not be published (a bad destination, a missing build, git failing)."""


class ConnectorError(ReportError):
    """A platform call failed.

    Attributes:
        platform: the connector (``google_ads``, ``meta``, ...).
        request: ``"METHOD path"`` of the failing call, without query secrets, or "".
    """

    def __init__(self, message: str, *, platform: str, request: str = "") -> None:
        self.platform = platform
        self.request = request
        at = f" [{request}]" if request else ""
        super().__init__(f"{platform}{at}: {message}")


class AuthFailed(ConnectorError):
    """The platform rejected our credentials, or they are missing."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down; ``retry_after`` is in seconds (None if not given)."""

    def __init__(
        self, message: str, *, platform: str, request: str = "", retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, platform=platform, request=request)


class ApiVersionRetired(ConnectorError):
    """The pinned API version is no longer served; the message names the constant to bump."""


class PlatformUnavailable(ConnectorError):
    """Server errors or timeouts persisted past the retry bound."""


class ResponseInvalid(ConnectorError):
    """The platform's answer could not be parsed or lacks a required field."""


class JobFailed(ConnectorError):
    """The platform reports that a report job failed (it may succeed for a smaller range)."""


class JobTimedOut(ConnectorError):
    """A report job did not finish within the deadline; ``job_id`` can be resumed later."""

    def __init__(self, message: str, *, platform: str, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(message, platform=platform)


class ExportInvalid(ConnectorError):
    """A CSV/XLSX export cannot be read; names the file and, for a bad cell, line and column."""

    def __init__(self, message: str, *, file: str, line: int | None = None, column: str = ""):
        self.file, self.line, self.column = file, line, column
        where = (
            file + (f", line {line}" if line else "") + (f", column {column!r}" if column else "")
        )
        super().__init__(f"{where}: {message}", platform="file")

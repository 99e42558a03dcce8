"""Analytics: pure functions over tables (no I/O). KPIs, currency, targets, overview."""

from generator.analytics import currency, kpis, overview, targets

__all__ = ["currency", "kpis", "overview", "targets"]

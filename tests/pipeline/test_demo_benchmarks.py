"""The demo's benchmarks: cohorts big enough to show, a niche industry that falls back, and
no peer anywhere in another client's site or build files."""

import json
import re

import numpy as np
import pandas as pd

from generator import pipeline
from generator.analytics import peers
from generator.analytics.benchmark_seed import seed_rows
from generator.config import load_agency, load_clients
from generator.lake import Lake
from generator.periods import Period
from generator.pipeline.benchmark_inputs import benchmark_inputs
from generator.pipeline.workspace import history_start
from generator.sandbox.peers import PEERS

from ..conftest import REPO

CONTENT = REPO / "content"
MONTHS = ("2026-09", "2026-10")


def test_the_demo_has_full_cohorts_and_a_niche_that_falls_back(demo_run):
    _, out = demo_run
    northwind = pd.read_parquet(out / "results" / "northwind" / "2026-10" / "benchmarks.parquet")
    google = northwind[(northwind["platform"] == "google_ads") & (northwind["metric"] == "cpc")]
    assert google["peer_size"].item() == "10–20 companies"  # quartiles released
    assert google["peer_p25"].notna().item() and google["peer_pct"].notna().item()
    harbor = pd.read_parquet(out / "results" / "harbor" / "2026-10" / "benchmarks.parquet")
    assert set(harbor.loc[harbor["platform"] == "google_ads", "peer_level"]) == {"health"}
    assert harbor["peer_relaxed"].str.contains("local/dental → health").any()
    assert harbor["pub_median"].notna().any() and harbor["pub_edition"].notna().any()
    for client in ("northwind", "brightline", "harbor"):
        summary = json.loads((out / "results" / client / "2026-10" / "summary.json").read_text())
        assert "benchmarks" in summary["sections"], client
        page = out / "sites" / client / "2026-10" / "benchmarks.html"
        assert page.exists() or (page.parent / "benchmarks" / "index.html").exists(), client


def test_no_peer_name_id_or_value_reaches_a_site_or_its_build_files(demo_run):
    _, out = demo_run
    lake = Lake(out / "lake")
    agency = load_agency(CONTENT)
    rates = pipeline.load_rates(CONTENT, agency)
    clients = load_clients(CONTENT)
    names = {p.slug for p in PEERS} | {c.slug for c in clients}
    # ids of every account in the lake but a file export's (those are words: "offline")
    files = {a.account_id for c in clients for a in c.accounts if a.platform == "file"}
    query = "SELECT DISTINCT account_id FROM ad_performance"
    accounts = set(lake.query(query)["account_id"].to_pylist()) - files
    for client in clients:
        others = names - {client.slug}
        foreign = accounts - {a.account_id for a in client.accounts}
        secrets = [re.escape(t) for t in sorted(others | foreign, key=len, reverse=True)]
        pattern = re.compile(rf"(?<![\w-])(?:{'|'.join(secrets)})(?![\w-])".encode())
        for folder in (out / "sites" / client.slug, out / "results" / client.slug):
            for path in folder.rglob("*"):
                if path.is_file() and path.suffix != ".png":
                    found = pattern.search(path.read_bytes())
                    assert found is None, (client.slug, path, found and found.group())
        for month in MONTHS:
            period = Period.month(month)
            inputs, _ = benchmark_inputs(
                lake, client, agency, period, rates, seed_rows(),
                trend_start=history_start(period, agency.history_months),
            )  # fmt: skip
            values = peers.account_values(inputs.portfolio)
            secret = values.loc[values["client"] != client.slug, "value"].to_numpy()
            # the peer figures of the Benchmarks table (the client's own numbers elsewhere may
            # equal a peer's by chance: 8/69 is 8/69 whoever converted)
            frame = pd.read_parquet(out / "results" / client.slug / month / "benchmarks.parquet")
            cohort = frame[[c for c in frame if c.startswith(("peer_", "blend_"))]]
            numbers = cohort.select_dtypes("number").to_numpy(dtype=float).ravel()
            numbers = numbers[np.isfinite(numbers)]
            assert numbers.size  # there are peer figures to check
            hits = np.isclose(numbers[:, None], secret[None, :], rtol=1e-9, atol=0).any(1)
            assert not hits.any(), (client.slug, month, numbers[hits][:5])

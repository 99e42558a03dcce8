import pytest

from generator.connectors import available, connector_class
from generator.connectors.google_ads import GoogleAds
from generator.connectors.tokens import TokenStore, default_path
from generator.errors import ConnectorError


def test_rotated_tokens_survive_a_restart(tmp_path):
    path = tmp_path / "state" / "tokens.json"
    store = TokenStore(path)
    assert store.current("reddit", "r1") == "r1"
    store.rotated("reddit", "r1", "r2")
    store.rotated("reddit", "r1", "r3")
    again = TokenStore(path)
    assert again.current("reddit", "r1") == "r3"
    assert again.current("snapchat", "r1") == "r1"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "r1" not in path.read_text()  # only a hash of the original is kept


def test_default_path(monkeypatch, tmp_path):
    monkeypatch.setenv("CAMPAIGN_REPORTER_STATE", str(tmp_path))
    assert default_path() == tmp_path / "tokens.json"
    monkeypatch.delenv("CAMPAIGN_REPORTER_STATE")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "campaign-reporter" / "tokens.json"


def test_connector_registry():
    assert connector_class("google_ads") is GoogleAds
    assert "google_ads" in available()
    with pytest.raises(ConnectorError, match="no connector for 'myspace'"):
        connector_class("myspace")


def test_a_connector_not_written_yet(monkeypatch):
    from generator import connectors

    monkeypatch.setitem(connectors.CONNECTORS, "fax", "generator.connectors.fax:Fax")
    with pytest.raises(ConnectorError, match="no connector for 'fax' yet"):
        connector_class("fax")
    assert "fax" not in available()

import json

from generator.site import archive


def test_versions_and_redirect(tmp_path):
    for label in ("2026-08", "2026-10", "2026-09", "2026-10-05_2026-10-18", "notaperiod"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "index.html").write_text("x")
    (tmp_path / "2026-07").mkdir()  # an unfinished build: no index.html yet
    versions = archive.update(tmp_path)
    assert [v["version"] for v in versions] == [
        "2026-10",
        "2026-10-05_2026-10-18",
        "2026-09",
        "2026-08",
    ]
    assert versions[0]["aliases"] == ["latest"] and versions[1]["aliases"] == []
    assert versions[1]["title"] == "2026-10-05 – 2026-10-18"
    assert json.loads((tmp_path / "versions.json").read_text()) == versions
    assert 'content="0; url=2026-10/index.html"' in (tmp_path / "index.html").read_text()


def test_an_empty_archive(tmp_path):
    assert archive.update(tmp_path) == []
    assert not (tmp_path / "index.html").exists()

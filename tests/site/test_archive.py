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


def read_script(text: str) -> list[dict]:
    prefix, suffix = "window.__reportVersions = ", ";\n"
    assert text.startswith(prefix) and text.endswith(suffix)
    return json.loads(text[len(prefix) : -len(suffix)])


def test_versions_js_carries_the_same_list(tmp_path):
    for label in ("2026-09", "2026-10-05_2026-10-18"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "index.html").write_text("x")
    versions = archive.update(tmp_path)
    script = (tmp_path / "versions.js").read_text(encoding="ascii")
    assert read_script(script) == json.loads((tmp_path / "versions.json").read_text()) == versions
    assert "\\u2013" in script  # the en dash of a range, kept ASCII


def test_versions_js_keeps_a_hostile_title_inside_the_script():
    title = 'May</script><script>alert("x")</script> & <!-- \u2028\u2029'
    versions = [{"version": "2026-05", "title": title, "aliases": ["latest"]}]
    script = archive._script(versions)
    assert not {"<", ">", "&", "\u2028", "\u2029"} & set(script)
    assert read_script(script) == versions


def test_an_empty_archive_still_has_its_scripts(tmp_path):
    archive.update(tmp_path)
    assert read_script((tmp_path / "versions.js").read_text()) == []


def test_the_redirect_asks_search_engines_to_stay_away_unless_told(tmp_path):
    (tmp_path / "2026-10").mkdir()
    (tmp_path / "2026-10" / "index.html").write_text("x")
    archive.update(tmp_path)
    robots = '<meta name="robots" content="noindex, nofollow">'
    assert (tmp_path / "index.html").read_text().count(robots) == 1
    archive.update(tmp_path, noindex=False)
    assert 'name="robots"' not in (tmp_path / "index.html").read_text()

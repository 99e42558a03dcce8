from generator.site.render import PAGES, render_pages

from .conftest import HOSTILE


def test_generated_pages(report, tmp_path, snapshot):
    written = render_pages(report, tmp_path, "campaign-report")
    assert [p.name for p in written] == list(PAGES.values())
    for page in written:
        text = page.read_text()
        assert text.startswith("---\nrender_macros: false\n")
        assert "<script>" not in text.replace('<script type="application/json"', "")
        assert HOSTILE not in text
        assert text == snapshot(name=page.name)


def test_a_broken_template_names_itself(report, tmp_path, monkeypatch):
    import pytest

    from generator.errors import BuildError
    from generator.site import render

    del report.summary["freshness"]
    with pytest.raises(BuildError, match="methods.md.j2"):
        render.render_pages(report, tmp_path, "campaign-report")
    monkeypatch.setattr(render, "PAGES", {})
    assert render.render_pages(report, tmp_path, "x") == []

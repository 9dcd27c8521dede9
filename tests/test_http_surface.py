"""What every answer tells the browser: no inline script runs, no framing, no sniffing, no
caching of personal data, and a designer's diagram is a download, never a page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .cases.test_intake import item, post_case  # noqa: F401  (fixtures)
from .conftest import ROOT, signed_in

TEMPLATES = sorted((ROOT / "app").rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:", re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_hold_no_inline_script(template: Path):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "move the script to app/static/js"
    assert not INLINE_HANDLER.search(text), "use a data- attribute handled in app/static/js"


def policy_of(response) -> dict[str, str]:
    directives = (
        d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";")
    )
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def assert_hardened(response):
    policy = policy_of(response)
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_staff_and_public_pages_are_hardened_and_never_cached(app, county):
    clerk = signed_in(app, "v11_window_clerk")
    for path in ("/cases/", "/desk/", "/login"):
        response = clerk.get(path)
        assert response.status_code in (200, 302), path
        assert_hardened(response)
        assert "no-store" in response.headers["Cache-Control"], path
    public = app.test_client()
    for response in (public.get("/verify/case"), public.post("/verify/case", data={})):
        assert_hardened(response)
        assert "no-store" in response.headers["Cache-Control"]
    script = public.get("/static/js/page.js")
    assert script.status_code == 200 and "no-store" not in script.headers.get("Cache-Control", "")


def test_a_case_diagram_is_an_attachment_the_browser_does_not_render(app, item, county):  # noqa: F811
    number = post_case(app, "center_window_clerk", item, county).get_json()["number"]
    clerk = signed_in(app, "center_window_clerk")
    response = clerk.get(f"/cases/{number}/diagram.bpmn")
    assert response.status_code == 200 and b"definitions" in response.data
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.mimetype == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]

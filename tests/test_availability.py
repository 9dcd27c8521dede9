"""One slow or locked writer never stops the platform: reads never take SQLite's write lock,
slow work runs outside transactions, texts are bounded, and the busy page asks nothing."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import create_app
from app.cases import pdf
from app.extensions import db
from app.models.cases import Case
from workflows.db import ReadOnlyViolation, read_only

from .cases.test_documents import case, issue, login  # noqa: F401  (fixtures)
from .cases.test_intake import PERSON, item, post_case  # noqa: F401  (fixtures)
from .conftest import CSRF, engine_of, signed_in


@pytest.fixture
def impatient_app(database_url, tmp_path):
    """The application with a writer that waits a fifth of a second for SQLite's lock."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": tmp_path / "instance",
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "SQLITE_BUSY_MS": 200,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_while_a_writer_holds_the_lock_pages_answer_and_a_post_gets_the_busy_page_at_once(
    impatient_app, database_url
):
    from .county import build_county

    with Session(engine_of(impatient_app)) as s:
        build_county(s)
    clerk = signed_in(impatient_app, "v11_window_clerk")
    form = clerk.get("/desk/copies").get_data(as_text=True)
    statements = []
    event.listen(
        engine_of(impatient_app),
        "before_cursor_execute",
        lambda _c, _cur, sql, *_a: statements.append(sql),
    )
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert clerk.get("/cases/").status_code == 200
        assert clerk.get("/verify/").status_code == 200
        assert time.monotonic() - started < 5
        statements.clear()
        started = time.monotonic()
        busy = clerk.post("/desk/copies/read", data={"csrf_token": CSRF.search(form).group(1)})
        assert time.monotonic() - started < 3
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert "数据库繁忙" in busy.get_data(as_text=True)
    # the first BEGIN IMMEDIATE waited and failed; the page itself asked nothing
    assert statements == ["BEGIN IMMEDIATE"]


def test_a_read_only_block_refuses_to_write(app):
    with app.app_context(), read_only():
        db.session.add(Case(number="x"))
        with pytest.raises(ReadOnlyViolation):
            db.session.flush()
        db.session.rollback()


def test_the_pdf_is_rendered_after_the_transaction_ends(app, case, issue, client, monkeypatch):  # noqa: F811
    seen = []

    def render(html: str) -> bytes:
        seen.append(db.session().in_transaction())
        return b"%PDF-1.7 probe"

    monkeypatch.setattr(pdf, "html_to_pdf", render)
    document = issue("acceptance")
    login(client, "v11_window_clerk")
    response = client.get(f"/cases/{case.number}/documents/{document.id}.pdf")
    assert response.status_code == 200 and response.data == b"%PDF-1.7 probe"
    assert seen == [False]


def test_pdf_rendering_is_bounded_in_size_and_in_waiting(monkeypatch):
    with pytest.raises(pdf.PdfTooLarge):
        pdf.html_to_pdf("<p>" + "周" * pdf.MAX_HTML_CHARS + "</p>")
    monkeypatch.setattr(pdf, "LOCK_WAIT_SECONDS", 0.05)
    holder = threading.Thread(
        target=lambda: (pdf._LOCK.acquire(), time.sleep(0.5), pdf._LOCK.release())
    )
    holder.start()
    time.sleep(0.05)
    try:
        with pytest.raises(pdf.PdfUnavailable, match="繁忙"):
            pdf.html_to_pdf("<p>周</p>")
    finally:
        holder.join()


def test_a_name_longer_than_its_column_is_refused_naming_the_field(app, item, county, session):  # noqa: F811
    response = post_case(
        app, "center_window_clerk", item, county, applicant={**PERSON, "name": "周" * 100_000}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "申请人名称" in error["message"] and "200" in error["message"]
    assert "applicant_name" in error["fields"]
    assert session.scalars(select(Case)).all() == []


def test_the_intake_page_refuses_a_name_longer_than_its_column_and_keeps_the_form(
    app, shipped, session
):
    from .cases.test_window_pages import intake, window

    long_name = "周" * 100_000
    response = intake(
        window(app), session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",),
        extra={"applicant_name": long_name},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "「申请人名称」太长：最多 200 个字符" in page and 'id="intake-form"' in page
    assert session.scalars(select(Case)).all() == []

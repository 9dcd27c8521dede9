"""Staff pages of a case's documents: the printable page and its PDF."""

from __future__ import annotations

import io

from flask import Blueprint, abort, send_file
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models.cases import Case, CaseDocument
from app.policy import requires

from . import documents
from . import pdf as renderer
from .access import can_view_case

bp = Blueprint("documents", __name__, url_prefix="/cases", template_folder="templates")


def _document(number: str, doc_id: int) -> CaseDocument:
    document = db.session.scalars(
        select(CaseDocument)
        .join(Case, Case.id == CaseDocument.case_id)
        .where(Case.number == number, CaseDocument.id == doc_id)
    ).first()
    if document is None:
        abort(404)
    if not can_view_case(db.session, current_user, document.case):
        abort(403)
    return document


@requires(policy.STAFF)
def html(number: str, doc_id: int):
    response = documents.render_html(_document(number, doc_id))
    return response, 200, {"Cache-Control": "private, no-store"}


@requires(policy.STAFF)
def pdf(number: str, doc_id: int):
    document = _document(number, doc_id)
    page, name = documents.render_html(document, for_pdf=True), f"{number}-{document.kind}.pdf"
    # the transaction ends before the slow part: rendering never holds a database lock
    db.session.close()
    content = renderer.html_to_pdf(page)  # PdfUnavailable is shown as a 503 page
    response = send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        download_name=name,
        as_attachment=False,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


bp.add_url_rule("/<number>/documents/<int:doc_id>", endpoint="html", view_func=html)
bp.add_url_rule("/<number>/documents/<int:doc_id>.pdf", endpoint="pdf", view_func=pdf)

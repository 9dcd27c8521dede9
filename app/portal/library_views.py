"""资料共享库 for the applicant: their kept materials and results, and their consent.

Only a verified account (实名核验) sees the entries of its ID number or credit code:
an unverified one could have been registered with someone else's number.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for

from app.cases import library
from app.clock import center_clock
from app.extensions import db
from app.files import store

from .views import applicant_required


def _own_entry(entry_id: int):
    """The signed-in, verified applicant's entry, or 404 (someone else's looks absent)."""
    applicant = g.identity.applicant
    if not applicant.verified:
        abort(404)
    entry = library.entry_of(db.session, applicant.kind, applicant.id_number, entry_id)
    if entry is None:
        abort(404)
    return entry


@applicant_required
def index():
    applicant = g.identity.applicant
    entries = (
        library.entries_of(db.session, applicant.kind, applicant.id_number)
        if applicant.verified
        else []
    )
    return render_template(
        "portal/library.html",
        applicant=applicant,
        entries=entries,
        today=center_clock(db.session).today(),
    )


@applicant_required
def consent(entry_id: int):
    """撤回授权 / 恢复授权 of one entry."""
    entry = _own_entry(entry_id)
    wanted = request.form.get("consent")
    if wanted not in ("withdraw", "restore"):
        flash("请选择撤回授权或恢复授权。", "danger")
        return redirect(url_for("portal.library"))
    changed = library.set_consent(db.session, entry, wanted == "restore")
    db.session.commit()
    if not changed:
        flash("授权状态没有变化。", "info")
    elif wanted == "restore":
        flash(f"已恢复“{entry.name}”的共享授权，办理新事项时可以复用。", "success")
    else:
        flash(f"已撤回“{entry.name}”的共享授权，今后不会再被复用。", "success")
    return redirect(url_for("portal.library"))


@applicant_required
def entry_file(entry_id: int):
    entry = _own_entry(entry_id)
    if not entry.blob_sha256:
        abort(404)
    return send_file(
        store.path_of(entry.blob_sha256),
        download_name=store.safe_name(entry.filename),
        as_attachment=True,
    )

"""Supervisor pages."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import or_, select

from app import policy
from app.audit.models import AuditEntry
from app.cases.access import can_view_case
from app.cases.models import Case
from app.desk.history import CASE_EVENT_ZH, EVENT_ZH, display_names
from app.extensions import db
from app.policy import requires

from . import services

PAGE_SIZE = 50
ACTION_ZH = {
    **EVENT_ZH,
    **CASE_EVENT_ZH,
    "claimed": "认领",
    "released": "释放",
    "routing_rule": "分派规则",
    "completed": "流程结束",
    "task_cancelled": "步骤取消",
    "migrated": "迁移流程版本",
    "deploy": "部署流程",
}
STATUSES = {"running": "办理中", "error": "出错", "completed": "已办结", "terminated": "已终止"}


@requires("supervise")
def index():
    regions = policy.home_regions(db.session, current_user, ("inspector",))
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = services.cases_under(
        db.session, regions, status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "supervision/index.html",
        regions=regions,
        rows=rows,
        total=total,
        status=status,
        statuses=STATUSES,
        page=page,
        has_next=page * PAGE_SIZE < total,
        decisions=services.routing_decisions(db.session, regions),
    )


@requires("supervise")
def case_audit(number: str):
    """A case's entries of the hash-chained audit log, window and process alike."""
    case = db.session.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        abort(404)
    if not can_view_case(db.session, current_user, case):
        abort(403)
    mine = AuditEntry.case_id == case.id
    if case.instance_id is not None:
        mine = or_(mine, AuditEntry.instance_id == case.instance_id)
    entries = db.session.scalars(select(AuditEntry).where(mine).order_by(AuditEntry.seq)).all()
    return render_template(
        "supervision/audit.html",
        case=case,
        entries=entries,
        names=display_names(
            db.session, {e.actor for e in entries} | {e.on_behalf_of for e in entries}
        ),
        actions=ACTION_ZH,
    )

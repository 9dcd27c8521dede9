"""Supervisor pages."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app import policy
from app.extensions import db
from app.policy import requires

from . import services

PAGE_SIZE = 50
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

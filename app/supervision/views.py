"""Supervisor pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from app import policy
from app.cases import services as case_services
from app.cases.access import visible_case
from app.cases.history import display_names
from app.clock import center_clock
from app.errors import refusals_return_to
from app.extensions import db
from app.limits import page_number
from app.models.audit import AuditEntry
from app.models.cases import Case, CaseEvent
from app.models.items import Item
from app.models.org import Department, Region
from app.models.supervision import Deduction
from app.org.directory import place_labels
from app.policy import requires
from app.vocabulary import CaseEventKind, CaseStatus, InstanceEventKind, InstanceStatus

from . import services, warnings

PAGE_SIZE = 50
# the audit log's actions: the process's and the window's events, and the center's own
ACTIONS = {
    **InstanceEventKind.labels(),
    **CaseEventKind.labels(),
    "deploy": "部署流程",
    "deduction": "扣分",
    "deduction_reversed": "冲销扣分",
}
LEVEL_FILTERS = {"red": "红牌", "yellow": "黄牌", "none": "正常"}


def _board_status(value: str | None) -> CaseStatus | None:
    status = CaseStatus.parse(value)
    return status if status in services.BOARD_STATUSES else None


@requires("supervise")
def index():
    regions = policy.home_regions(db.session, current_user, ("inspector",))
    args = request.args
    filters = services.BoardFilters(
        region_id=args.get("region", type=int),
        status=_board_status(args.get("status")),
        item_id=args.get("item", type=int),
        department_id=args.get("department", type=int),
        level=args.get("level") if args.get("level") in LEVEL_FILTERS else None,
        green=args.get("green") == "1",
        kind=args.get("kind") if args.get("kind") in services.BOARD_KINDS else None,
    )
    page = page_number(args)
    rows, total, counts = services.cases_board(
        db.session, regions, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    clock = center_clock(db.session)
    instances, instance_total = services.cases_under(db.session, regions, None, limit=20, offset=0)
    instance_places = {(i.data or {}).get("place") for i in instances} - {None}
    return render_template(
        "supervision/index.html",
        regions=regions,
        rows=rows,
        total=total,
        level_counts=counts,
        filters=filters,
        statuses={s: s.label for s in services.BOARD_STATUSES},
        levels=LEVEL_FILTERS,
        kinds=services.BOARD_KINDS,
        places=place_labels(db.session, services.sub_regions(db.session, regions)),
        items=db.session.scalars(select(Item).order_by(Item.code)).all(),
        departments=db.session.scalars(
            select(Department).where(Department.id.in_(select(Case.lead_department_id)))
        ).all(),
        cards=services.cards_of(db.session, [c.id for c in rows]),
        steps=services.open_steps(db.session, [c.instance_id for c in rows if c.instance_id]),
        left={
            c.id: clock.workdays_left(c.promised_date) for c in rows if c.promised_date is not None
        },
        page=page,
        has_next=page * PAGE_SIZE < total,
        instances=instances,
        instance_total=instance_total,
        instance_statuses=InstanceStatus.labels(),
        instance_cases=dict(
            db.session.execute(
                select(Case.instance_id, Case.number).where(
                    Case.instance_id.in_([i.id for i in instances])
                )
            ).all()
        ),
        place_names=dict(
            db.session.execute(
                select(Region.code, Region.name).where(Region.code.in_(instance_places))
            ).all()
        ),
        decisions=services.routing_decisions(db.session, regions),
    )


@requires("supervise")
def case_audit(number: str):
    """A case's entries of the hash-chained audit log, window and process alike."""
    case = visible_case(number)
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
        actions=ACTIONS,
    )


# --- 督办 and the points ledger --------------------------------------------------------


@requires("supervise")
def urge(number: str):
    """督办: a message to whoever holds the case's open steps, recorded on the case."""
    case = visible_case(number)
    message = (request.form.get("message") or "").strip()
    if not message:
        flash("请填写督办意见。", "danger")
        return redirect(url_for("cases.detail", number=number))
    items = warnings.open_items(db.session, case)
    step = request.form.get("step") or None
    if step:
        items = [w for w in items if w.bpmn_id == step]
    if not items:
        flash("办件当前没有待办环节，无需督办。", "warning")
        return redirect(url_for("cases.detail", number=number))
    names = warnings.notify_holders(
        db.session, items, "urge", f"督办 {case.number}（{case.item.name}）：{message}", case.number
    )
    steps = "、".join(w.name or w.bpmn_id for w in items)
    db.session.add(
        CaseEvent(
            case_id=case.id,
            kind=CaseEventKind.URGED,
            actor=current_user.username,
            message=f"{steps}：{message}",
        )
    )
    db.session.commit()
    flash(f"已督办，已通知 {len(names)} 人：{'、'.join(names)}。", "success")
    return redirect(url_for("cases.detail", number=number))


def _departments_under(regions):
    return select(Department.id).where(
        Department.region_id.in_(
            select(Region.id).where(or_(*[Region.path.startswith(r.path) for r in regions]))
        )
    )


@requires("supervise")
def deductions():
    regions = policy.home_regions(db.session, current_user, ("inspector",))
    page = page_number(request.args)
    rows, totals = [], []
    if regions:
        mine = Deduction.department_id.in_(_departments_under(regions))
        rows = db.session.scalars(
            select(Deduction)
            .where(mine)
            .order_by(Deduction.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
        totals = db.session.execute(
            select(Department.name, func.sum(Deduction.points))
            .join(Department, Department.id == Deduction.department_id)
            .where(mine, Deduction.username.is_(None))
            .group_by(Department.name)
            .order_by(func.sum(Deduction.points).desc())
        ).all()
    reversed_ids = set(
        db.session.scalars(
            select(Deduction.reverses_id).where(Deduction.reverses_id.in_([d.id for d in rows]))
        )
    )
    return render_template(
        "supervision/deductions.html",
        rows=rows,
        totals=totals,
        reversed_ids=reversed_ids,
        departments={
            d.id: d.name
            for d in db.session.scalars(
                select(Department).where(
                    Department.id.in_({d.department_id for d in rows if d.department_id})
                )
            )
        },
        page=page,
        has_next=len(rows) == PAGE_SIZE,
    )


@requires("supervise")
def reverse_deduction(deduction_id: int):
    deduction = db.session.get(Deduction, deduction_id)
    regions = policy.home_regions(db.session, current_user, ("inspector",))
    if deduction is None:
        abort(404)
    allowed = (
        deduction.department_id in set(db.session.scalars(_departments_under(regions)))
        if regions
        else False
    )
    if not allowed:
        abort(403)
    ledger = url_for("supervision.deductions")
    refusals_return_to(ledger)
    warnings.reverse(db.session, deduction, current_user.username, request.form.get("reason", ""))
    db.session.commit()
    flash("已冲销。", "success")
    return redirect(ledger)


@requires("supervise")
def suspend(number: str):
    """挂起 / 恢复: the case's work waits and its clock stops, with a reason."""
    case = visible_case(number)
    form = request.form
    page = url_for("cases.detail", number=number)
    refusals_return_to(page)
    if form.get("change") == "resume":
        case_services.resume(db.session, case, current_user.username, form.get("note"))
        done = "已恢复办理，承诺办结日期已顺延。"
    else:
        case_services.suspend(db.session, case, current_user.username, form.get("reason", ""))
        done = "已挂起：办件暂停办理、暂停计时。"
    db.session.commit()
    flash(done, "success")
    return redirect(page)

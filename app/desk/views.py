"""Worklist pages: 待办, 已办, 我经办的办件, 抄送我的; claim, release, copy."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.cases import delivery
from app.cases.services import delivered_in_process
from app.clock import center_clock
from app.engine import platform_runtime
from app.extensions import db, writes_on_get
from app.limits import page_number
from app.models.auth import User
from app.models.cases import Case
from app.models.desk import CaseCopy
from app.notifications.services import unread_count
from app.policy import STAFF, requires
from app.routing.assigner import GREEN_CHANNEL_PRIORITY
from workflows.errors import RuntimeErrorBase

from . import operations, services
from .operations import OperationForbidden

PAGE_SIZE = 50
NOTE_MAX = 500


def _page() -> int:
    return page_number(request.args)


def _list(rows: list, page: int) -> dict:
    """What every list page passes to its template."""
    return {"rows": rows, "page": page, "has_next": len(rows) == PAGE_SIZE}


def _work_list(template: str, query, page_name: str, take_back: bool = False):
    page = _page()
    filters = services.WorkFilter.from_args(request.args)
    found = query(
        db.session,
        current_user,
        filters=filters,
        clock=center_clock(db.session),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    rows = found.rows
    if page_name == "open" and found.matching is not None and not filters.args():
        # the navigation's number, without a second count
        g.desk_counts = {"unread": services.count_unread_copies(db.session, current_user)}
        g.desk_counts["open"] = found.matching
    return render_template(
        template,
        **_list(rows, page),
        matching=found.matching,
        tab=page_name,
        filters=filters,
        filter_args=filters.args(),
        items=services.item_choices(db.session),
        routed_to=services.candidate_titles(db.session, [r.item.id for r in rows]),
        green_priority=GREEN_CHANNEL_PRIORITY,
        takeable=platform_runtime().take_back_offers([r.item for r in rows], current_user.username)
        if take_back
        else set(),
        cards=services.cards_for(db.session, [r.item for r in rows]) if page_name == "open" else {},
    )


@requires("work")
def index():
    return _work_list("desk/index.html", services.my_open_work, "open")


@requires("work")
def done():
    return _work_list("desk/done.html", services.my_done_work, "done", take_back=True)


@requires("work")
def cases():
    page = _page()
    rows = services.my_cases(
        db.session, current_user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template("desk/cases.html", **_list(rows, page), tab="cases")


@requires("intake")
def deliveries():
    """待送达: decided cases this window received and has still to hand out."""
    page = _page()
    rows = delivery.waiting_cases(
        db.session, current_user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "desk/deliveries.html",
        **_list(rows, page),
        tab="deliveries",
        in_process={c.id for c in rows if delivered_in_process(db.session, c)},
    )


@requires(STAFF)
def copies():
    page = _page()
    unread = request.args.get("unread") == "1"
    rows = services.my_copies(
        db.session,
        current_user,
        unread_only=unread,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render_template("desk/copies.html", **_list(rows, page), tab="copies", unread=unread)


@requires(STAFF)
@writes_on_get
def copy(copy_id: int):
    """One copy: read it (which marks it read), then open the case."""
    found = db.session.get(CaseCopy, copy_id)
    if found is None or found.recipient_id != current_user.id:
        abort(404)
    if found.read_at is None:
        services.mark_read(db.session, current_user, [found.id])
        db.session.commit()
    case = db.session.scalars(select(Case).where(Case.instance_id == found.instance_id)).first()
    return render_template(
        "desk/copy.html",
        copy=found,
        case=case,
        sender=db.session.scalars(select(User).where(User.username == found.sent_by)).first(),
        can_open_step=found.work_item_id is not None and policy.has(current_user, "work"),
        tab="copies",
    )


@requires(STAFF)
def copies_read():
    count = services.mark_read(db.session, current_user)
    db.session.commit()
    flash(f"已将 {count} 条抄送标为已读。", "success")
    return redirect(url_for("desk.copies"))


@requires("work")
def copy_send(item_id: int):
    """抄送 from the task page: the case and this step, to colleagues, with a note."""
    item = platform_runtime().work_item(item_id)
    if not policy.can_view_instance(db.session, current_user, item.instance):
        abort(403)
    note = request.form.get("note", "").strip()[:NOTE_MAX]
    try:
        sent = services.send_copies(
            db.session,
            item.instance_id,
            item.id,
            request.form.getlist("recipients"),
            current_user.username,
            note,
        )
    except services.NoRecipients as exc:
        flash(str(exc), "danger")
        return redirect(url_for("desk.task", item_id=item.id))
    names = "、".join(c.recipient.display_name for c in sent)
    db.session.commit()
    flash(f"已抄送：{names}", "success")
    return redirect(url_for("desk.task", item_id=item.id))


def counts() -> dict:
    """The navigation's numbers (待办, unread 抄送, 消息 and 待送达), computed once per request."""
    if "desk_counts" not in g:
        g.desk_counts = {"unread": services.count_unread_copies(db.session, current_user)}
    if "open" not in g.desk_counts:
        has_work = policy.has(current_user, "work")
        g.desk_counts["open"] = (
            services.count_open_work(db.session, current_user) if has_work else 0
        )
    if "notices" not in g.desk_counts:
        g.desk_counts["notices"] = unread_count(db.session, current_user.username)
    if "deliveries" not in g.desk_counts:
        g.desk_counts["deliveries"] = (
            delivery.count_waiting(db.session, current_user)
            if policy.has(current_user, "intake")
            else 0
        )
    return g.desk_counts


def _act(item_id: int, action, done: str):
    try:
        action(
            db.session,
            platform_runtime(),
            current_user,
            item_id,
            request.form.get("version", type=int),
        )
    except OperationForbidden:
        abort(403)
    except RuntimeErrorBase as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("desk.index"))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("desk.index"))


@requires("work")
def claim(item_id: int):
    return _act(item_id, operations.claim, "已认领。")


@requires("work")
def release(item_id: int):
    return _act(item_id, operations.release, "已释放，其他同事可以认领。")

"""The task page's operations: 退回, 转办, 委派 and its answer, 撤回 from 已办."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app import policy
from app.cases.access import visible_case
from app.engine import platform_runtime
from app.extensions import db
from app.policy import requires
from workflows.errors import RuntimeErrorBase

from . import operations


def _run(item_id: int, change, done: str, back_to_task: bool = False):
    try:
        change(db.session, platform_runtime(), current_user)
    except RuntimeErrorBase as exc:
        db.session.rollback()
        if isinstance(exc, operations.OperationForbidden) and not _sees(item_id):
            abort(403)  # a case not theirs: no task page to send them back to
        flash(exc.message, "danger")
        return redirect(url_for("desk.task", item_id=item_id))
    db.session.commit()
    flash(done, "success")
    if back_to_task:
        return redirect(url_for("desk.task", item_id=item_id))
    return redirect(url_for("desk.index"))


def _sees(item_id: int) -> bool:
    item = platform_runtime().work_item(item_id)
    return policy.can_view_instance(db.session, current_user, item.instance)


def _version():
    return request.form.get("version", type=int)


@requires("work")
def return_item(item_id: int):
    form = request.form
    target = form.get("target", "")
    return _run(
        item_id,
        lambda s, r, u: operations.return_to(
            s, r, u, item_id, target, form.get("reason", ""), version=_version()
        ),
        "已退回。",
    )


def _hand_over(item_id: int, operation, done: str, back_to_task: bool):
    """转办 or 委派 from the task page: ``to``, ``reason`` and the page's version."""
    form = request.form
    return _run(
        item_id,
        lambda s, r, u: operation(
            s, r, u, item_id, form.get("to", ""), form.get("reason", ""), version=_version()
        ),
        done.format(to=form.get("to", "")),
        back_to_task=back_to_task,
    )


@requires("work")
def transfer(item_id: int):
    return _hand_over(item_id, operations.transfer, "已转办给 {to}。", back_to_task=False)


@requires("work")
def delegate(item_id: int):
    return _hand_over(
        item_id, operations.delegate, "已委派给 {to}，答复后由您办结。", back_to_task=True
    )


@requires("work")
def answer(item_id: int):
    form = request.form
    return _run(
        item_id,
        lambda s, r, u: operations.answer_delegation(
            s, r, u, item_id, form.get("answer", ""), version=_version()
        ),
        "已答复委派。",
    )


@requires("work")
def take_back(item_id: int):
    reason = request.form.get("reason") or None
    try:
        operations.take_back(db.session, platform_runtime(), current_user, item_id, reason)
    except operations.OperationForbidden:
        db.session.rollback()
        abort(403)  # the case is not theirs
    except RuntimeErrorBase as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("desk.done"))
    db.session.commit()
    flash("已撤回，该步骤回到您的待办。", "success")
    return redirect(url_for("desk.index"))


@requires("work")
def case_signers(number: str):
    """加签/减签 from the case page (whoever opened the 会签, or a process administrator)."""
    case = visible_case(number)
    form = request.form
    add = form.get("change") == "add"
    try:
        operations.change_signers(
            db.session,
            platform_runtime(),
            current_user,
            case.instance_id or 0,
            form.get("step", ""),
            (form.get("signer") or "").strip(),
            form.get("reason", ""),
            add=add,
        )
    except RuntimeErrorBase as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash("已加签。" if add else "已减签。", "success")
    return redirect(url_for("cases.detail", number=number))

"""Instances seen from the designer's side: find the failed ones, read why, retry."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import policy
from app.engine import platform_runtime
from app.extensions import db
from app.limits import page_number
from app.policy import requires
from app.privacy import masked
from app.vocabulary import InstanceEventKind, InstanceStatus
from workflows import models as m
from workflows.errors import RuntimeErrorBase

from .forms import RetryForm, TerminateForm

PAGE_SIZE = 50


@requires("instances.manage")
def index():
    status = InstanceStatus.parse(request.args.get("status"))
    page = page_number(request.args)
    managed = policy.managed_instances(db.session, current_user)
    stmt = (
        select(m.ProcessInstance).options(selectinload(m.ProcessInstance.definition)).where(managed)
    )
    if status is not None:
        stmt = stmt.where(m.ProcessInstance.status == status)
    rows = db.session.scalars(
        stmt.order_by(m.ProcessInstance.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    counts = dict(
        db.session.execute(
            select(m.ProcessInstance.status, func.count())
            .where(managed)
            .group_by(m.ProcessInstance.status)
        ).all()
    )
    return render_template(
        "designer/instances.html",
        instances=rows,
        status=status,
        statuses=InstanceStatus.labels(),
        counts=counts,
        page=page,
        has_next=len(rows) == PAGE_SIZE,
    )


def _managed(runtime, instance_id: int) -> m.ProcessInstance:
    """The instance, or 403 if it lies outside the regions the user manages."""
    instance = runtime.get_instance(instance_id)
    if not policy.manages_instance(db.session, current_user, instance):
        abort(403)
    return instance


def _detail_page(instance_id: int, retry_form=None, terminate_form=None, status=200):
    runtime = platform_runtime()
    instance = _managed(runtime, instance_id)
    return (
        render_template(
            "designer/instance.html",
            instance=instance,
            data=masked(instance.data or {}),  # a technical view: no one needs the numbers
            statuses=InstanceStatus.labels(),
            events=InstanceEventKind.labels(),
            work_items=runtime.open_work_items(instance.id),
            history=runtime.history(instance.id),
            retry_form=retry_form or RetryForm(),
            terminate_form=terminate_form or TerminateForm(),
        ),
        status,
    )


@requires("instances.manage")
def detail(instance_id: int):
    return _detail_page(instance_id)


@requires("instances.manage")
def retry(instance_id: int):
    _managed(platform_runtime(), instance_id)
    form = RetryForm()
    if not form.validate_on_submit():
        return _detail_page(instance_id, retry_form=form, status=400)
    try:
        instance = platform_runtime().retry(instance_id, current_user.username, form.version.data)
    except RuntimeErrorBase as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _detail_page(instance_id, retry_form=form, status=exc.http_status)
    db.session.commit()
    if instance.status == InstanceStatus.ERROR:
        flash("已重试，但流程仍然出错，请查看下方错误信息。", "warning")
    else:
        flash("已重试，办件继续流转。", "success")
    return redirect(url_for("designer.detail", instance_id=instance_id))


@requires("instances.manage")
def terminate(instance_id: int):
    _managed(platform_runtime(), instance_id)
    form = TerminateForm()
    if not form.validate_on_submit():
        return _detail_page(instance_id, terminate_form=form, status=400)
    try:
        platform_runtime().terminate(instance_id, form.reason.data, current_user.username)
    except RuntimeErrorBase as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _detail_page(instance_id, terminate_form=form, status=exc.http_status)
    db.session.commit()
    flash("办件已终止。", "success")
    return redirect(url_for("designer.detail", instance_id=instance_id))

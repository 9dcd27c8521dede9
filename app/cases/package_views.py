"""一件事 at the window: receiving a package at the 受理台, the package page with its
cases, and 统一出证 (every result handed out together)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import once, policy
from app.engine import platform_runtime
from app.errors import DomainError, refusals_return_to
from app.extensions import db
from app.items.packages import shape_of
from app.models.cases import APPLICANT_TYPES
from app.models.items import ItemPackage
from app.models.org import Region
from app.org.directory import place_labels
from app.policy import STAFF, requires
from app.schema_forms import parse
from app.vocabulary import ItemStatus
from workflows.errors import RuntimeErrorBase

from . import packages
from .access import can_view_case
from .intake_form import PREFIX, edit_fields
from .places import intake_regions, may_receive_at, receiving_channel
from .views import applicant_from

DELIVERY_METHODS = ("窗口直接送达", "邮寄送达", "电子送达")


def _package(package_id: int) -> ItemPackage:
    package = db.session.get(ItemPackage, package_id)
    if package is None or package.status != ItemStatus.PUBLISHED:
        abort(404)
    return package


def _intake_page(package: ItemPackage, *, form=None, errors=None, status=200):
    shape = shape_of(db.session, package)
    regions = intake_regions(db.session, current_user)
    return render_template(
        "cases/package_intake.html",
        package=package,
        shape=shape,
        fields=edit_fields(shape.schema(), {}, form, errors or {}) if shape.fields else [],
        places=place_labels(db.session, regions),
        applicant_types=APPLICANT_TYPES,
        nonce=once.form_nonce(),
        values=form.to_dict(flat=True) if form is not None else {},
        checked={int(v) for v in form.getlist("materials") if v.isdigit()} if form else set(),
        errors=errors or {},
    ), status


@requires("intake")
def intake(package_id: int):
    """One form for all the package's items (受理台)."""
    package = _package(package_id)
    if request.method == "GET":
        return _intake_page(package)
    try:
        once.spend_nonce(db.session, request.form.get("nonce"))
    except once.AlreadySubmitted as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("cases.index"))
    form = request.form
    try:
        place = db.session.get(Region, form.get("place", type=int) or 0)
        if place is None or not may_receive_at(db.session, current_user, place):
            raise packages.PackageError("请选择本窗口受理范围内的办理地点。", "place")
        shape = shape_of(db.session, package)
        bundle, cases, password = packages.receive_package(
            db.session,
            packages.PackageIntake(
                package=package,
                applicant=applicant_from(form),
                place=place,
                answers=parse(shape.schema(), form, prefix=PREFIX),
                received={int(v) for v in form.getlist("materials") if v.isdigit() and len(v) < 10},
                channel=receiving_channel(db.session, current_user),
            ),
            current_user.username,
        )
        db.session.flush()
    except (DomainError, RuntimeErrorBase) as exc:
        db.session.rollback()
        errors = dict(getattr(exc, "fields", {}) or {})
        if getattr(exc, "field", None):
            errors[exc.field] = exc.message
        flash(exc.message, "danger")
        return _intake_page(package, form=form, errors=errors, status=422)
    db.session.commit()
    flash(
        f"已收件：一件事“{package.name}”编号 {bundle.number}，共 {len(cases)} 个办件，"
        f"查询密码 {password}（各办件通用，只显示这一次，请告知申请人）。"
        "请在各办件页面受理、补正或不予受理。",
        "success",
    )
    return redirect(url_for("cases.package", number=bundle.number))


def _bundle(number: str):
    bundle = packages.by_number(db.session, number[:32])
    if bundle is None:
        abort(404)
    seen = {c.id for c in bundle.cases if can_view_case(db.session, current_user, c)}
    if not seen:
        abort(403)
    return bundle, seen


def _may_deliver(bundle) -> bool:
    return policy.has(current_user, "intake") and may_receive_at(
        db.session, current_user, bundle.place
    )


@requires(STAFF)
def page(number: str):
    bundle, seen = _bundle(number)
    runtime = platform_runtime()
    steps = {
        c.id: runtime.open_work_items(c.instance_id)
        for c in bundle.cases
        if c.id in seen and c.instance_id is not None
    }
    return render_template(
        "cases/package.html",
        bundle=bundle,
        seen=seen,
        steps=steps,
        state=packages.progress(bundle),
        may_deliver=_may_deliver(bundle),
        methods=DELIVERY_METHODS,
    )


@requires("intake")
def deliver(number: str):
    """统一出证: every decided case of the package delivered at once."""
    bundle, _seen = _bundle(number)
    if not _may_deliver(bundle):
        abort(403)
    here = url_for("cases.package", number=bundle.number)
    refusals_return_to(here)
    method = request.form.get("method", "")
    delivered = packages.deliver_package(
        db.session,
        bundle,
        current_user.username,
        method if method in DELIVERY_METHODS else DELIVERY_METHODS[0],
        request.form.get("receiver", "")[:80],
    )
    db.session.commit()
    flash(f"已统一出证：送达 {len(delivered)} 个办件的结果，已出具送达回证。", "success")
    return redirect(here)


def package_of_case(case) -> dict | None:
    """The case page's 一件事 card: the package, its progress and its other cases."""
    bundle = case.package_case
    if bundle is None:
        return None
    return {"bundle": bundle, "state": packages.progress(bundle)}

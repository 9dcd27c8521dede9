"""Catalog pages: list and search, create and edit, publish and retire, materials."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app import once
from app.errors import refusals_return_to
from app.extensions import db
from app.files import store
from app.filters import process_label
from app.items.warning_rules import rule_text
from app.limits import page_number
from app.models.items import KINDS, TOPIC_AUDIENCES, Item
from app.models.org import Department
from app.policy import STAFF, requires
from app.vocabulary import ItemStatus
from workflows.models import ProcessDefinition

from . import services
from .forms import ItemForm, MaterialForm

MANAGE = "items.manage"
PAGE_SIZE = 50


def _item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    return item


def _choices(form: ItemForm) -> ItemForm:
    departments = db.session.scalars(
        select(Department)
        .where(Department.parent_id.is_(None))
        .order_by(Department.region_id, Department.name)
    )
    form.lead_department_id.choices = [(0, "（未指定）")] + [(d.id, d.name) for d in departments]
    processes = db.session.scalars(
        select(ProcessDefinition.process_id).distinct().order_by(ProcessDefinition.process_id)
    )
    form.process_id.choices = [("", "（未选择）")] + [(p, process_label(p)) for p in processes]
    return form


def _values(form: ItemForm) -> dict:
    return {
        "code": form.code.data.strip(),
        "name": form.name.data.strip(),
        "kind": form.kind.data,
        "lead_department_id": form.lead_department_id.data or None,
        "authority": (form.authority.data or "").strip() or None,
        "process_id": form.process_id.data or None,
        "result_name": (form.result_name.data or "").strip() or None,
        "statutory_days": form.statutory_days.data,
        "committed_days": form.committed_days.data,
        "fee_amount": form.fee_amount.data,
        "fee_note": form.fee_note.data or None,
        "legal_basis": form.legal_basis.data or None,
        "conditions": form.conditions.data or None,
        "warn_yellow": (form.warn_yellow.data or "").strip() or None,
        "warn_red": (form.warn_red.data or "").strip() or None,
        "step_limits": services.parse_step_limits(form.step_limits.data) or None,
        "online": form.online.data,
        "green_channel": form.green_channel.data,
        "window": (form.window.data or "").strip() or None,
        "address": (form.address.data or "").strip() or None,
        "phone": (form.phone.data or "").strip() or None,
        "hours": (form.hours.data or "").strip() or None,
        "topics": [
            (audience, name)
            for audience in TOPIC_AUDIENCES
            for name in services.parse_topics(
                getattr(form, f"topics_{audience}").data, f"topics_{audience}"
            )
        ],
    }


@requires(STAFF)
def index():
    page = page_number(request.args)
    text = request.args.get("q", "").strip()
    kind, status = request.args.get("kind") or None, request.args.get("status") or None
    items = services.search(
        db.session, text, kind, status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "items/index.html",
        items=items,
        q=text,
        kind=kind,
        status=status,
        kinds=KINDS,
        statuses=ItemStatus.labels(),
        page=page,
        has_next=len(items) == PAGE_SIZE,
    )


def _save(form: ItemForm, item: Item | None):
    try:
        if item is None:
            once.spend_nonce(db.session, form.nonce.data)
        item, warning = services.save_item(db.session, item, _values(form))
    except once.AlreadySubmitted as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("items.index"))
    except services.ItemError as exc:
        db.session.rollback()
        if exc.field:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(exc.message, "danger")
        return None
    db.session.commit()
    flash("已保存。", "success")
    if warning:
        flash(warning, "warning")
    return redirect(url_for("items.detail", item_id=item.id))


@requires(MANAGE)
def new():
    form = _choices(ItemForm())
    if not form.is_submitted():
        form.nonce.data = once.form_nonce()
    if form.validate_on_submit():
        done = _save(form, None)
        if done is not None:
            return done
    return render_template("items/form.html", form=form, item=None), 400 if form.errors else 200


@requires(MANAGE)
def edit(item_id: int):
    item = _item(item_id)
    form = _choices(ItemForm(obj=item))
    if request.method == "GET":
        form.lead_department_id.data = item.lead_department_id or 0
        form.step_limits.data = services.step_limits_text(item.step_limits)
        form.warn_yellow.data = rule_text(item.warn_yellow)
        form.warn_red.data = rule_text(item.warn_red)
        form.topics_person.data = services.topics_text(item, "person")
        form.topics_company.data = services.topics_text(item, "company")
    if form.validate_on_submit():
        done = _save(form, item)
        if done is not None:
            return done
    return render_template("items/form.html", form=form, item=item), 400 if form.errors else 200


@requires(STAFF)
def detail(item_id: int):
    return _detail_page(_item(item_id), MaterialForm())


def _detail_page(item: Item, material_form: MaterialForm, status: int = 200):
    return render_template("items/detail.html", item=item, material_form=material_form), status


def _act(item: Item, change, success: str):
    page = url_for("items.detail", item_id=item.id)
    refusals_return_to(page)
    change()
    db.session.commit()
    flash(success, "success")
    return redirect(page)


@requires(MANAGE)
def publish(item_id: int):
    item = _item(item_id)
    return _act(item, lambda: services.publish(db.session, item), "事项已发布，窗口可以受理。")


@requires(MANAGE)
def retire(item_id: int):
    item = _item(item_id)
    return _act(
        item,
        lambda: services.retire(db.session, item),
        "事项已停用，不再受理新申请；在办的办件照常办理。",
    )


def _attach(form_field, prefix: str) -> dict:
    upload = form_field.data
    if not upload or not getattr(upload, "filename", ""):
        return {}
    blob = store.store(db.session, upload.read(), upload.filename)
    return {f"{prefix}_sha256": blob.sha256, f"{prefix}_name": store.safe_name(upload.filename)}


@requires(MANAGE)
def add_material(item_id: int):
    item = _item(item_id)
    form = MaterialForm()
    if not form.validate_on_submit():
        return _detail_page(item, form, 400)
    values = {
        "name": form.name.data.strip(),
        "form": form.form.data,
        "copies": form.copies.data,
        "required": form.required.data,
        "note": form.note.data or None,
        "satisfied_by_item": (form.satisfied_by_item.data or "").strip() or None,
    }
    try:
        values |= _attach(form.blank_form, "blank_form") | _attach(form.example, "example")
        services.save_material(db.session, item, None, values)
    except (store.FileRejected, services.ItemError) as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _detail_page(item, form, 400)
    db.session.commit()
    flash("已添加材料。", "success")
    return redirect(url_for("items.detail", item_id=item.id))


def _material(item: Item, material_id: int):
    material = next((m for m in item.materials if m.id == material_id), None)
    if material is None:
        abort(404)
    return material


@requires(MANAGE)
def delete_material(item_id: int, material_id: int):
    item = _item(item_id)
    material = _material(item, material_id)
    return _act(item, lambda: services.remove_material(db.session, item, material), "已删除材料。")


@requires(MANAGE)
def move_material(item_id: int, material_id: int):
    item = _item(item_id)
    material = _material(item, material_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    return _act(item, lambda: services.move_material(item, material, offset), "已调整顺序。")


@requires(STAFF)
def material_file(item_id: int, material_id: int, which: str):
    material = _material(_item(item_id), material_id)
    sha, name = (
        (material.blank_form_sha256, material.blank_form_name)
        if which == "blank"
        else (material.example_sha256, material.example_name)
    )
    if not sha:
        abort(404)
    return send_file(store.path_of(sha), download_name=store.safe_name(name), as_attachment=True)

"""Region pages: browse the tree a level at a time, search, create, edit, delete."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.extensions import db
from app.models.org import LEVELS, Region
from app.policy import requires

from . import queries
from .forms import RegionForm
from .services import (
    create_region,
    delete_region,
    region_ancestors,
    require_region,
    update_region,
)
from .web import FAILED, act, save

MANAGE = "org.manage"


@requires(MANAGE)
def index():
    return redirect(url_for("org.regions"))


@requires(MANAGE)
def tree():
    parent_id = request.args.get("parent", type=int)
    parent = db.get_or_404(Region, parent_id) if parent_id else None
    text = request.args.get("q", "").strip()
    return render_template(
        "org/regions.html",
        parent=parent,
        ancestors=region_ancestors(db.session, parent) if parent else [],
        rows=queries.child_regions(db.session, parent),
        q=text,
        results=queries.search_regions(db.session, text) if text else None,
    )


@requires(MANAGE)
def detail(region_id: int):
    region = db.get_or_404(Region, region_id)
    return render_template(
        "org/region.html",
        region=region,
        ancestors=region_ancestors(db.session, region),
        rows=queries.region_departments(db.session, region),
    )


def _parent_of(form) -> Region | None:
    code = (form.parent_code.data or "").strip()
    return require_region(db.session, code, "parent_code") if code else None


def _form_page(form, region: Region | None):
    status = 400 if form.is_submitted() else 200
    return render_template("org/region_form.html", form=form, region=region), status


@requires(MANAGE)
def new():
    form = RegionForm()
    parent_id = request.args.get("parent", type=int)
    if not form.is_submitted() and parent_id:
        parent = db.get_or_404(Region, parent_id)
        form.parent_code.data = parent.code
        form.level.data = LEVELS[min(LEVELS.index(parent.level) + 1, len(LEVELS) - 1)]
    if form.validate_on_submit():
        region = save(
            form,
            lambda: create_region(
                db.session,
                code=form.code.data,
                name=form.name.data,
                level=form.level.data,
                parent=_parent_of(form),
            ),
        )
        if region is not FAILED:
            flash(f"已新增区划“{region.name}”。", "success")
            return redirect(url_for("org.region", region_id=region.id))
    return _form_page(form, None)


@requires(MANAGE)
def edit(region_id: int):
    region = db.get_or_404(Region, region_id)
    form = RegionForm(obj=region)
    if not form.is_submitted():
        form.parent_code.data = region.parent.code if region.parent else ""
    if form.validate_on_submit():
        changed = save(
            form,
            lambda: update_region(
                db.session,
                region,
                code=form.code.data,
                name=form.name.data,
                level=form.level.data,
                parent=_parent_of(form),
            ),
        )
        if changed is not FAILED:
            flash("区划已保存。", "success")
            return redirect(url_for("org.region", region_id=region_id))
    return _form_page(form, region)


@requires(MANAGE)
def delete(region_id: int):
    region = db.get_or_404(Region, region_id)
    parent_id, name = region.parent_id, region.name
    act(
        lambda: delete_region(db.session, region),
        f"已删除区划“{name}”。",
        refused_to=url_for("org.region", region_id=region_id),
    )
    return redirect(url_for("org.regions", parent=parent_id))

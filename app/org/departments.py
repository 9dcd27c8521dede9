"""Department and section pages: their posts, and who holds each post."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from app.extensions import db
from app.models.auth import User
from app.models.org import Department, Post, Region
from app.policy import requires

from .forms import DepartmentForm, HolderForm, PostForm
from .queries import department_rows
from .services import (
    assign_user,
    create_department,
    create_post,
    delete_department,
    delete_post,
    region_ancestors,
    require_user,
    unassign_user,
    update_department,
)
from .web import FAILED, act, save

MANAGE = "org.manage"


def _page(department: Department, *, post_form=None, holder_form=None, holder_post=None):
    """The department page; a refused form is shown again with its errors (status 400)."""
    failed = post_form is not None or holder_form is not None
    (row,) = department_rows(db.session, [department.parent or department])
    if department.parent is not None:
        row = next(s for s in row.sections if s.department.id == department.id)
    return (
        render_template(
            "org/department.html",
            department=department,
            ancestors=[*region_ancestors(db.session, department.region), department.region],
            row=row,
            post_form=post_form or PostForm(),
            holder_form=holder_form,
            holder_post=holder_post,
            blank_holder_form=HolderForm(),
        ),
        400 if failed else 200,
    )


@requires(MANAGE)
def detail(department_id: int):
    return _page(db.get_or_404(Department, department_id))


def _form_page(form, *, region, parent=None, department=None):
    status = 400 if form.is_submitted() else 200
    return render_template(
        "org/department_form.html", form=form, region=region, parent=parent, department=department
    ), status


def _saved(form, change, message: str):
    department = save(form, change)
    if department is FAILED:
        return None
    flash(message.format(name=department.name), "success")
    return redirect(url_for("org.department", department_id=department.id))


@requires(MANAGE)
def new(region_id: int):
    return _new(db.get_or_404(Region, region_id))


@requires(MANAGE)
def new_section(department_id: int):
    parent = db.get_or_404(Department, department_id)
    return _new(parent.region, parent)


def _new(region: Region, parent: Department | None = None):
    form = DepartmentForm()
    if form.validate_on_submit():
        done = _saved(
            form,
            lambda: create_department(
                db.session, code=form.code.data, name=form.name.data, region=region, parent=parent
            ),
            "已新增股室“{name}”。" if parent else "已新增部门“{name}”。",
        )
        if done:
            return done
    return _form_page(form, region=region, parent=parent)


@requires(MANAGE)
def edit(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department)
    if form.validate_on_submit():
        done = _saved(
            form,
            lambda: update_department(
                db.session, department, code=form.code.data, name=form.name.data
            ),
            "“{name}”已保存。",
        )
        if done:
            return done
    return _form_page(
        form, region=department.region, parent=department.parent, department=department
    )


@requires(MANAGE)
def delete(department_id: int):
    department = db.get_or_404(Department, department_id)
    name, region_id, parent_id = department.name, department.region_id, department.parent_id
    act(
        lambda: delete_department(db.session, department),
        f"已删除“{name}”。",
        refused_to=url_for("org.department", department_id=department_id),
    )
    if parent_id:
        return redirect(url_for("org.department", department_id=parent_id))
    return redirect(url_for("org.region", region_id=region_id))


@requires(MANAGE)
def add_post(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = PostForm()
    if form.validate_on_submit():
        post = save(form, lambda: create_post(db.session, department, form.role.data))
        if post is not FAILED:
            flash(f"已新增岗位“{post.title}”。", "success")
            return redirect(url_for("org.department", department_id=department_id))
    return _page(department, post_form=form)


@requires(MANAGE)
def remove_post(post_id: int):
    post = db.get_or_404(Post, post_id)
    department_id, title = post.department_id, post.title
    page = url_for("org.department", department_id=department_id)
    act(lambda: delete_post(db.session, post), f"已删除岗位“{title}”。", refused_to=page)
    return redirect(page)


@requires(MANAGE)
def add_holder(post_id: int):
    post = db.get_or_404(Post, post_id)
    form = HolderForm()
    if form.validate_on_submit():
        user = save(form, lambda: _assign(post, form.username.data))
        if user is not FAILED:
            flash(f"{user.display_name}（{user.username}）已任“{post.title}”。", "success")
            return redirect(url_for("org.department", department_id=post.department_id))
    return _page(post.department, holder_form=form, holder_post=post)


def _assign(post: Post, username: str) -> User:
    user = require_user(db.session, username)
    assign_user(db.session, user, post)
    return user


@requires(MANAGE)
def remove_holder(post_id: int, user_id: int):
    post = db.get_or_404(Post, post_id)
    user = db.get_or_404(User, user_id)
    department_id = post.department_id
    message = f"已将 {user.display_name} 移出“{post.title}”。"
    page = url_for("org.department", department_id=department_id)
    act(lambda: unassign_user(db.session, user, post), message, refused_to=page)
    return redirect(page)

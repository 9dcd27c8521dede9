"""At the window: a clerk resets an applicant's password to a one-time password."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.extensions import db
from app.policy import requires
from app.privacy import mask

from . import accounts
from .forms import ResetLookupForm


@requires("intake")
def reset():
    form = ResetLookupForm()
    found = one_time = None
    verified_now = False
    if request.method == "POST" and form.validate_on_submit():
        identity = accounts.password_identity(db.session, form.id_number.data)
        if identity is None:
            form.id_number.errors = ["没有以该证件号码注册的申请人账户。"]
        elif request.form.get("confirm") == "verify":
            accounts.verify(identity.applicant, current_user.username)
            db.session.commit()
            found, verified_now = identity.applicant, True
        elif request.form.get("confirm") == "1":
            one_time = accounts.reset_password(identity)
            db.session.commit()
            found = identity.applicant
        else:
            found = identity.applicant
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template(
        "portal/staff_reset.html",
        form=form,
        applicant=found,
        one_time=one_time,
        verified_now=verified_now,
        mask=mask,
    ), status

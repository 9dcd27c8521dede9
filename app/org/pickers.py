"""What the searching pickers (app/static/js/picker.js) ask as one types."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from app.extensions import db
from app.policy import STAFF, requires

from .directory import find_people


@requires(STAFF)
def people():
    """People that ``q`` names, within the caller's jurisdiction; the username is the value."""
    found = find_people(db.session, current_user, request.args.get("q", ""))
    return jsonify(
        people=[
            {"value": p.username, "name": p.name, "departments": list(p.departments)} for p in found
        ]
    )

from flask import Blueprint

from . import views

bp = Blueprint("payments", __name__, url_prefix="/cases")

bp.add_url_rule(
    "/<number>/payments/<int:payment_id>/confirm",
    endpoint="confirm",
    view_func=views.confirm,
    methods=["POST"],
)
bp.add_url_rule(
    "/<number>/payments/<int:payment_id>/refund",
    endpoint="refund",
    view_func=views.refund,
    methods=["POST"],
)

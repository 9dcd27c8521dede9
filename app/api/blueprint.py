from flask import Blueprint, g, request

from app.auth.services import user_for_token
from app.extensions import db
from workflows.db import is_read_only

from . import messages, payments, views

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _bearer_token():
    """The API authenticates by bearer token only (never the login cookie)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    found = scheme.lower() == "bearer" and token.strip()
    g.api_user = (
        user_for_token(db.session, token.strip(), record_use=not is_read_only()) if found else None
    )


bp.add_url_rule("/deployments", view_func=views.create_deployment, methods=["POST"])
bp.add_url_rule("/processes", view_func=views.list_processes, methods=["GET"])
bp.add_url_rule("/instances", view_func=views.start_instance, methods=["POST"])
bp.add_url_rule("/instances/<int:instance_id>", view_func=views.get_instance, methods=["GET"])
bp.add_url_rule(
    "/instances/<int:instance_id>/terminate", view_func=views.terminate_instance, methods=["POST"]
)
bp.add_url_rule(
    "/instances/<int:instance_id>/retry", view_func=views.retry_instance, methods=["POST"]
)
bp.add_url_rule("/work-items", view_func=views.list_work_items, methods=["GET"])
bp.add_url_rule("/work-items/<int:item_id>", view_func=views.get_work_item, methods=["GET"])
bp.add_url_rule(
    "/work-items/<int:item_id>/claim", view_func=views.claim_work_item, methods=["POST"]
)
bp.add_url_rule(
    "/work-items/<int:item_id>/release", view_func=views.release_work_item, methods=["POST"]
)
bp.add_url_rule(
    "/work-items/<int:item_id>/complete", view_func=views.complete_work_item, methods=["POST"]
)
bp.add_url_rule("/timers/fire", view_func=views.fire_timers, methods=["POST"])
bp.add_url_rule("/cases", view_func=views.create_case, methods=["POST"])
bp.add_url_rule("/messages", view_func=messages.deliver_message, methods=["POST"])
bp.add_url_rule("/signals", view_func=messages.broadcast_signal, methods=["POST"])
bp.add_url_rule("/message-senders", view_func=messages.list_senders, methods=["GET"])
bp.add_url_rule(
    "/message-senders",
    endpoint="register_sender",
    view_func=messages.register_sender,
    methods=["POST"],
)
bp.add_url_rule("/cases/<number>", view_func=views.get_case, methods=["GET"])
bp.add_url_rule("/cases/<number>/payments", view_func=payments.confirm_payment, methods=["POST"])

for path, view in (
    ("return", views.return_work_item),
    ("take-back", views.take_back_work_item),
    ("transfer", views.transfer_work_item),
    ("delegate", views.delegate_work_item),
    ("delegation", views.answer_delegation),
):
    bp.add_url_rule(f"/work-items/<int:item_id>/{path}", view_func=view, methods=["POST"])
bp.add_url_rule(
    "/work-items/<int:item_id>/return-targets", view_func=views.return_targets, methods=["GET"]
)
bp.add_url_rule(
    "/instances/<int:instance_id>/signers", view_func=views.list_signers, methods=["GET"]
)
bp.add_url_rule(
    "/instances/<int:instance_id>/signers",
    endpoint="change_signers",
    view_func=views.change_signers,
    methods=["POST", "DELETE"],
)

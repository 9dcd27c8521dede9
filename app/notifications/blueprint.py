"""站内消息: the list and "mark all read"."""

from flask import Blueprint

from . import views

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")
bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET"])
bp.add_url_rule("/read", endpoint="read_all", view_func=views.read_all, methods=["POST"])

from flask import Blueprint

from . import instances, views

bp = Blueprint("designer", __name__, url_prefix="/designer", template_folder="templates")

bp.add_url_rule("/", view_func=views.index, methods=["GET"])
bp.add_url_rule("/upload", view_func=views.upload, methods=["POST"])
bp.add_url_rule("/instances", endpoint="instances", view_func=instances.index, methods=["GET"])
bp.add_url_rule(
    "/instances/<int:instance_id>", endpoint="detail", view_func=instances.detail, methods=["GET"]
)
bp.add_url_rule("/instances/<int:instance_id>/retry", view_func=instances.retry, methods=["POST"])
bp.add_url_rule(
    "/instances/<int:instance_id>/terminate", view_func=instances.terminate, methods=["POST"]
)

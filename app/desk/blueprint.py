from flask import Blueprint

from . import task, views

bp = Blueprint("desk", __name__, url_prefix="/desk", template_folder="templates")

bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET"])
bp.add_url_rule("/items/<int:item_id>", endpoint="task", view_func=task.show, methods=["GET"])
bp.add_url_rule(
    "/items/<int:item_id>", endpoint="task_submit", view_func=task.submit, methods=["POST"]
)
bp.add_url_rule(
    "/items/<int:item_id>/claim", endpoint="claim", view_func=views.claim, methods=["POST"]
)
bp.add_url_rule(
    "/items/<int:item_id>/release", endpoint="release", view_func=views.release, methods=["POST"]
)

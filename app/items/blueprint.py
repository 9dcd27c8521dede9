from flask import Blueprint

from . import views

bp = Blueprint("items", __name__, url_prefix="/items", template_folder="templates")

bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET"])
bp.add_url_rule("/new", endpoint="new", view_func=views.new, methods=["GET", "POST"])
bp.add_url_rule("/<int:item_id>", endpoint="detail", view_func=views.detail, methods=["GET"])
bp.add_url_rule(
    "/<int:item_id>/edit", endpoint="edit", view_func=views.edit, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/<int:item_id>/publish", endpoint="publish", view_func=views.publish, methods=["POST"]
)
bp.add_url_rule(
    "/<int:item_id>/retire", endpoint="retire", view_func=views.retire, methods=["POST"]
)
bp.add_url_rule(
    "/<int:item_id>/materials",
    endpoint="add_material",
    view_func=views.add_material,
    methods=["POST"],
)
bp.add_url_rule(
    "/<int:item_id>/materials/<int:material_id>/delete",
    endpoint="delete_material",
    view_func=views.delete_material,
    methods=["POST"],
)
bp.add_url_rule(
    "/<int:item_id>/materials/<int:material_id>/move",
    endpoint="move_material",
    view_func=views.move_material,
    methods=["POST"],
)
bp.add_url_rule(
    "/<int:item_id>/materials/<int:material_id>/<any(blank, example):which>",
    endpoint="material_file",
    view_func=views.material_file,
    methods=["GET"],
)

"""The desk: 待办, 已办, 我经办的办件, 待送达, 抄送我的, and the task page."""

from flask import Blueprint
from flask_login import current_user

from . import operation_views, task, views

bp = Blueprint("desk", __name__, url_prefix="/desk", template_folder="templates")

bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET"])
bp.add_url_rule("/done", endpoint="done", view_func=views.done, methods=["GET"])
bp.add_url_rule("/cases", endpoint="cases", view_func=views.cases, methods=["GET"])
bp.add_url_rule("/deliveries", endpoint="deliveries", view_func=views.deliveries, methods=["GET"])
bp.add_url_rule("/copies", endpoint="copies", view_func=views.copies, methods=["GET"])
bp.add_url_rule(
    "/copies/read", endpoint="copies_read", view_func=views.copies_read, methods=["POST"]
)
bp.add_url_rule("/copies/<int:copy_id>", endpoint="copy", view_func=views.copy, methods=["GET"])
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
bp.add_url_rule(
    "/items/<int:item_id>/copy", endpoint="copy_send", view_func=views.copy_send, methods=["POST"]
)


@bp.app_context_processor
def _desk_counts():
    return {"desk_counts": views.counts if current_user.is_authenticated else None}


for path, view in (
    ("return", operation_views.return_item),
    ("transfer", operation_views.transfer),
    ("delegate", operation_views.delegate),
    ("delegation", operation_views.answer),
    ("take-back", operation_views.take_back),
):
    bp.add_url_rule(
        f"/items/<int:item_id>/{path}",
        endpoint=f"op_{path.replace('-', '_')}",
        view_func=view,
        methods=["POST"],
    )
bp.add_url_rule(
    "/items/<int:item_id>/phrases",
    endpoint="save_phrase",
    view_func=task.save_phrase,
    methods=["POST"],
)
bp.add_url_rule(
    "/items/<int:item_id>/phrases/<int:phrase_id>/delete",
    endpoint="delete_phrase",
    view_func=task.delete_phrase,
    methods=["POST"],
)
bp.add_url_rule(
    "/items/<int:item_id>/files/<field>", endpoint="task_file", view_func=task.file, methods=["GET"]
)
bp.add_url_rule(
    "/cases/<number>/signers",
    endpoint="case_signers",
    view_func=operation_views.case_signers,
    methods=["POST"],
)

from flask import Blueprint

from . import backups, calendar, departments, leave, pickers, regions, rules, users

bp = Blueprint("org", __name__, url_prefix="/org", template_folder="templates")

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]

bp.add_url_rule("/", "index", regions.index, methods=GET)
bp.add_url_rule("/regions", "regions", regions.tree, methods=GET)
bp.add_url_rule("/regions/new", "new_region", regions.new, methods=BOTH)
bp.add_url_rule("/regions/<int:region_id>", "region", regions.detail, methods=GET)
bp.add_url_rule("/regions/<int:region_id>/edit", "edit_region", regions.edit, methods=BOTH)
bp.add_url_rule("/regions/<int:region_id>/delete", "delete_region", regions.delete, methods=POST)

bp.add_url_rule(
    "/regions/<int:region_id>/departments/new", "new_department", departments.new, methods=BOTH
)
bp.add_url_rule("/departments/<int:department_id>", "department", departments.detail, methods=GET)
bp.add_url_rule(
    "/departments/<int:department_id>/sections/new",
    "new_section",
    departments.new_section,
    methods=BOTH,
)
bp.add_url_rule(
    "/departments/<int:department_id>/edit", "edit_department", departments.edit, methods=BOTH
)
bp.add_url_rule(
    "/departments/<int:department_id>/delete",
    "delete_department",
    departments.delete,
    methods=POST,
)
bp.add_url_rule(
    "/departments/<int:department_id>/posts", "add_post", departments.add_post, methods=POST
)
bp.add_url_rule("/posts/<int:post_id>/delete", "delete_post", departments.remove_post, methods=POST)
bp.add_url_rule("/posts/<int:post_id>/holders", "add_holder", departments.add_holder, methods=POST)
bp.add_url_rule(
    "/posts/<int:post_id>/holders/<int:user_id>/remove",
    "remove_holder",
    departments.remove_holder,
    methods=POST,
)

bp.add_url_rule("/users", "users", users.index, methods=GET)
bp.add_url_rule("/users/new", "new_user", users.new, methods=BOTH)
bp.add_url_rule("/users/<int:user_id>", "user", users.detail, methods=BOTH)
bp.add_url_rule("/users/<int:user_id>/password", "reset_password", users.password, methods=POST)
bp.add_url_rule("/users/<int:user_id>/activate", "activate_user", users.activate, methods=POST)
bp.add_url_rule(
    "/users/<int:user_id>/deactivate", "deactivate_user", users.deactivate, methods=POST
)

bp.add_url_rule("/backups", "backups", backups.index, methods=GET)
bp.add_url_rule("/backups/new", "new_backup", backups.create, methods=POST)
bp.add_url_rule("/backups/<int:backup_id>/end", "end_backup", backups.end, methods=POST)
bp.add_url_rule("/leave", "leave", backups.leave, methods=POST)
bp.add_url_rule("/leave/end", "end_leave", backups.back, methods=POST)

bp.add_url_rule("/people", "people", pickers.people, methods=GET)

bp.add_url_rule("/rules", "rules", rules.index, methods=GET)
bp.add_url_rule("/rules/edit", "edit_rules", rules.edit, methods=BOTH)

bp.add_url_rule("/calendar", "calendar", calendar.index, methods=GET)
bp.add_url_rule("/calendar", "calendar_enter", calendar.enter, methods=POST)
bp.add_url_rule("/calendar/<day>/delete", "calendar_remove", calendar.remove, methods=POST)

# one's own 请假/销假, outside the administrators' /org pages
account = Blueprint("account", __name__, url_prefix="/account", template_folder="templates")
account.add_url_rule("/leave", "leave", leave.leave, methods=BOTH)
account.add_url_rule("/leave/end", "leave_end", leave.end, methods=POST)

"""What the audit chain records of the organisation: users (created, edited,
deactivated, passwords reset), their posts, regions, departments, posts, AB角
backups, assignment rules and the working-day calendar."""

from __future__ import annotations

from app.audit.chain import Covered
from app.models.org import AssignmentRules, Backup, Department, Post, Region
from workflows.models import CalendarDay

COVERED = (
    Covered(Region, "org"),
    Covered(Department, "org"),
    Covered(Post, "org", collections=("holders",)),
    Covered(Backup, "org"),
    Covered(AssignmentRules, "org"),
    Covered(CalendarDay, "calendar"),
)

"""好差评: one rating per case, attached to its window, department and the people who
handled it. 投诉 and 办不成事 are cases of their own items (kind ``feedback``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.cases import Case
from app.models.org import Department
from app.vocabulary import RatingChannel, RatingLevel
from workflows.db import Base
from workflows.timeutil import utcnow


class CaseRating(Base):
    """The applicant's rating of a finished case (一次一评, changeable for a few days).

    ``first_level`` keeps the grade first given: a 差评 is never lost when the applicant
    changes it or gives a new grade at the 回访.
    """

    __tablename__ = "case_rating"
    __table_args__ = (Index("ix_case_rating_month", "rated_at", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), unique=True)
    level: Mapped[str] = mapped_column(String(1))
    first_level: Mapped[str] = mapped_column(String(1))
    tags: Mapped[list] = mapped_column(default=list)
    comment: Mapped[str | None] = mapped_column(Text, info={"label": "评价内容"})
    channel: Mapped[str] = mapped_column(String(16), default=RatingChannel.PORTAL)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime | None]
    # what the rating is attached to, fixed when it is given
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    handlers: Mapped[list] = mapped_column(default=list)  # usernames, in order
    # 差评整改: the case of the rectification process a bad grade started
    rectification_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    rectified_at: Mapped[datetime | None]  # the department's 整改 recorded (``measures``)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    window: Mapped[Department | None] = relationship(foreign_keys=[window_id])
    rectification: Mapped[Case | None] = relationship(foreign_keys=[rectification_case_id])

    @property
    def level_zh(self) -> str:
        return RatingLevel.label_of(self.level)

    @property
    def first_level_zh(self) -> str:
        return RatingLevel.label_of(self.first_level)

    @property
    def channel_zh(self) -> str:
        return RatingChannel.label_of(self.channel)

    @property
    def is_bad(self) -> bool:
        return RatingLevel(self.first_level).is_bad

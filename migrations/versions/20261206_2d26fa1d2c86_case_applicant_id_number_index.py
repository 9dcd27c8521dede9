"""我的办件: cases by the applicant's ID number (a verified applicant's window cases)

Revision ID: 2d26fa1d2c86
Revises: b7d1e3f5a9c2
Create Date: 2026-12-06 00:20:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "2d26fa1d2c86"
down_revision = "b7d1e3f5a9c2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_applicant_id_number", ["applicant_id_number", "applicant_type"], unique=False
        )


def downgrade():
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_index("ix_case_applicant_id_number")

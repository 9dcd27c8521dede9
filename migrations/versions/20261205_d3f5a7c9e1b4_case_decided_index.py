"""待送达: decided cases by their receiver (a partial index, a few rows of all)

Revision ID: d3f5a7c9e1b4
Revises: 7c2e9a4b1d53
Create Date: 2026-12-05 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3f5a7c9e1b4'
down_revision = '7c2e9a4b1d53'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_decided_received_by', ['received_by', 'place_id'], unique=False, postgresql_where=sa.text("status = 'decided'"), sqlite_where=sa.text("status = 'decided'"))


def downgrade():
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_decided_received_by', postgresql_where=sa.text("status = 'decided'"), sqlite_where=sa.text("status = 'decided'"))

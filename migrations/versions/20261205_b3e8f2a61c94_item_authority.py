"""item authority (实施机关)

Revision ID: b3e8f2a61c94
Revises: d3f5a7c9e1b4
Create Date: 2026-12-05 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b3e8f2a61c94'
down_revision = 'd3f5a7c9e1b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authority', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('authority')

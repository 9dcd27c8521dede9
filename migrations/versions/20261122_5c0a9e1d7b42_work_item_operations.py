"""work item operations: delegation and the step that opened an item

Revision ID: 5c0a9e1d7b42
Revises: f13d00f98377
Create Date: 2026-11-22 08:05:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401  (autogenerate writes JSONB(astext_type=Text()))

# revision identifiers, used by Alembic.
revision = '5c0a9e1d7b42'
down_revision = 'f13d00f98377'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_item_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delegated_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('delegated_to', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('delegation', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('delegation_answer', sa.Text(), nullable=True))
        batch_op.create_index('ix_work_item_delegate', ['delegated_to', 'delegation'], unique=False)


def downgrade():
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index('ix_work_item_delegate')
        batch_op.drop_column('delegation_answer')
        batch_op.drop_column('delegation')
        batch_op.drop_column('delegated_to')
        batch_op.drop_column('delegated_by')
        batch_op.drop_column('previous_item_id')

"""好差评: case ratings

Revision ID: a3c5e7f9b1d2
Revises: f2b4d6e8a0c1
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b1d2'
down_revision = 'f2b4d6e8a0c1'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade():
    op.create_table('case_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=1), nullable=False),
    sa.Column('first_level', sa.String(length=1), nullable=False),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('rated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.Column('handlers', JSON, nullable=False),
    sa.Column('rectification_case_id', sa.Integer(), nullable=True),
    sa.Column('rectified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['rectification_case_id'], ['case_file.id'], ),
    sa.ForeignKeyConstraint(['window_id'], ['department.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('case_rating', schema=None) as batch_op:
        batch_op.create_index('ix_case_rating_month', ['rated_at', 'department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_rating_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_rating_window_id'), ['window_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_rating_window_id'))
        batch_op.drop_index(batch_op.f('ix_case_rating_department_id'))
        batch_op.drop_index('ix_case_rating_month')
    op.drop_table('case_rating')

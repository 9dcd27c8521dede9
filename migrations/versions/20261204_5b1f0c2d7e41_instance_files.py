"""instance files: which case's process each uploaded file belongs to

Revision ID: 5b1f0c2d7e41
Revises: 3401786f819d
Create Date: 2026-12-04 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1f0c2d7e41'
down_revision = '3401786f819d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('instance_file',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['blob.sha256'], ),
    sa.PrimaryKeyConstraint('instance_id', 'sha256')
    )


def downgrade():
    op.drop_table('instance_file')

"""create once: spent form nonces and stored Idempotency-Key answers

Revision ID: 7c2e9a4b1d53
Revises: 5b1f0c2d7e41
Create Date: 2026-12-04 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '7c2e9a4b1d53'
down_revision = '5b1f0c2d7e41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spent_nonce',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('spent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('nonce')
    )
    op.create_table('idempotent_answer',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'key')
    )


def downgrade():
    op.drop_table('idempotent_answer')
    op.drop_table('spent_nonce')

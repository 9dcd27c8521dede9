"""audit chain: HMAC entries and the rows each entry covers

Entries already in the log keep ``alg = 'sha256'`` (the plain hash they were
written with); every entry appended after this migration is HMAC-SHA256 with
the key outside the database (docs/SECURITY.md).

Revision ID: a7d1c3e5f9b2
Revises: c006c4721e8c
Create Date: 2026-12-04 18:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d1c3e5f9b2'
down_revision = 'c006c4721e8c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('row_table', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('row_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('alg', sa.String(length=16), server_default='sha256', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('alg')
        batch_op.drop_column('row_sha256')
        batch_op.drop_column('row_id')
        batch_op.drop_column('row_table')

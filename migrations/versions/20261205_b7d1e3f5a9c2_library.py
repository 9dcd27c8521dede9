"""资料共享库: library entries and their uses; 前置审批 and result names in the catalog

Revision ID: b7d1e3f5a9c2
Revises: a7d3f5c9b214
Create Date: 2026-12-05 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7d1e3f5a9c2'
down_revision = 'a7d3f5c9b214'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result_name', sa.String(length=200), nullable=True))
    with op.batch_alter_table('item_material', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfied_by_item', sa.String(length=40), nullable=True))
    op.create_table(
        'library_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('holder_type', sa.String(length=16), nullable=False),
        sa.Column('holder_id_number', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('item_code', sa.String(length=40), nullable=False),
        sa.Column('item_name', sa.String(length=200), nullable=False),
        sa.Column('blob_sha256', sa.String(length=64), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('source_case_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('consent_withdrawn_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['blob_sha256'], ['blob.sha256']),
        sa.ForeignKeyConstraint(['document_id'], ['case_document.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_case_id'], ['case_file.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('library_entry', schema=None) as batch_op:
        batch_op.create_index('ix_library_entry_holder', ['holder_type', 'holder_id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_entry_source_case_id'), ['source_case_id'], unique=False)
    op.create_table(
        'library_use',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('case_material_id', sa.Integer(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=False),
        sa.Column('used_by', sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_material_id'], ['case_material.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entry_id'], ['library_entry.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_material_id'),
    )
    with op.batch_alter_table('library_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_use_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_use_entry_id'), ['entry_id'], unique=False)


def downgrade():
    op.drop_table('library_use')
    op.drop_table('library_entry')
    with op.batch_alter_table('item_material', schema=None) as batch_op:
        batch_op.drop_column('satisfied_by_item')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('result_name')

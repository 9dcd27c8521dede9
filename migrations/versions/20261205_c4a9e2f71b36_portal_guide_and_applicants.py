"""portal: where to go, 主题 topics, applicant accounts and their identities

Revision ID: c4a9e2f71b36
Revises: e6a2c4b8d0f1
Create Date: 2026-12-05 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'c4a9e2f71b36'
down_revision = 'e6a2c4b8d0f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('hours', sa.String(length=200), nullable=True))
        # the guide's search: published items, by department
        batch_op.create_index(batch_op.f('ix_item_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_lead_department_id'), ['lead_department_id'], unique=False)
    op.create_table(
        'item_topic',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('item_topic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_topic_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_topic_name'), ['name'], unique=False)
    op.create_table(
        'applicant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('id_number', sa.String(length=18), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('legal_person', sa.String(length=50), nullable=True),
        sa.Column('contact', sa.String(length=50), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('verified_at', sa.DateTime(), nullable=True),
        sa.Column('verified_by', sa.String(length=80), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('id_number'),
    )
    op.create_table(
        'applicant_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('applicant_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=True),
        sa.Column('must_change_password', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['applicant_id'], ['applicant.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider', 'subject'),
    )
    with op.batch_alter_table('applicant_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applicant_identity_applicant_id'), ['applicant_id'], unique=False)
    op.create_table(
        'online_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('applicant_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('place_id', sa.Integer(), nullable=True),
        sa.Column('contact_name', sa.String(length=80), nullable=True),
        sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('materials', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['applicant_id'], ['applicant.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id']),
        sa.ForeignKeyConstraint(['item_id'], ['item.id']),
        sa.ForeignKeyConstraint(['place_id'], ['region.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'),
    )
    with op.batch_alter_table('online_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_online_application_applicant_id'), ['applicant_id'], unique=False)
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicant_account_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_file_applicant_account_id'), ['applicant_account_id'], unique=False)
        batch_op.create_foreign_key('fk_case_file_applicant_account_id_applicant', 'applicant', ['applicant_account_id'], ['id'])


def downgrade():
    op.drop_table('online_application')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_constraint('fk_case_file_applicant_account_id_applicant', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_case_file_applicant_account_id'))
        batch_op.drop_column('applicant_account_id')
    op.drop_table('applicant_identity')
    op.drop_table('applicant')
    op.drop_table('item_topic')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_lead_department_id'))
        batch_op.drop_index(batch_op.f('ix_item_status'))
        batch_op.drop_column('hours')
        batch_op.drop_column('phone')
        batch_op.drop_column('address')
        batch_op.drop_column('window')

"""一件事一次办: item packages, package cases, package drafts on the portal

Revision ID: f2b4d6e8a0c1
Revises: 2d26fa1d2c86
Create Date: 2026-12-06 00:10:09.889974

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401  (autogenerate writes JSONB(astext_type=Text()))
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'f2b4d6e8a0c1'
down_revision = '2d26fa1d2c86'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('item_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('same_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('same_materials', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('topics', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('window', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('item_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_package_status'), ['status'], unique=False)

    op.create_table('case_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('applicant_name', sa.String(length=200), nullable=False),
    sa.Column('applicant_id_number', sa.String(length=32), nullable=False),
    sa.Column('applicant_account_id', sa.Integer(), nullable=True),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('received_by', sa.String(length=80), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['applicant_account_id'], ['applicant.id'], ),
    sa.ForeignKeyConstraint(['county_id'], ['region.id'], ),
    sa.ForeignKeyConstraint(['package_id'], ['item_package.id'], ),
    sa.ForeignKeyConstraint(['place_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('case_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_package_applicant_account_id'), ['applicant_account_id'], unique=False)

    op.create_table('item_package_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['package_id'], ['item_package.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('item_package_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_package_member_package_id'), ['package_id'], unique=False)

    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('package_case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_file_package_case_id'), ['package_case_id'], unique=False)
        batch_op.create_foreign_key('fk_case_file_package_case', 'case_package', ['package_case_id'], ['id'])

    with op.batch_alter_table('online_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('package_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('package_case_id', sa.Integer(), nullable=True))
        batch_op.alter_column('item_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_unique_constraint('uq_online_application_package_case', ['package_case_id'])
        batch_op.create_foreign_key('fk_online_application_package_case', 'case_package', ['package_case_id'], ['id'])
        batch_op.create_foreign_key('fk_online_application_package', 'item_package', ['package_id'], ['id'])



def downgrade():
    with op.batch_alter_table('online_application', schema=None) as batch_op:
        batch_op.drop_constraint('fk_online_application_package', type_='foreignkey')
        batch_op.drop_constraint('fk_online_application_package_case', type_='foreignkey')
        batch_op.drop_constraint('uq_online_application_package_case', type_='unique')
        batch_op.alter_column('item_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('package_case_id')
        batch_op.drop_column('package_id')

    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_constraint('fk_case_file_package_case', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_case_file_package_case_id'))
        batch_op.drop_column('package_case_id')

    with op.batch_alter_table('item_package_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_package_member_package_id'))
    op.drop_table('item_package_member')
    with op.batch_alter_table('case_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_package_applicant_account_id'))
    op.drop_table('case_package')
    with op.batch_alter_table('item_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_package_status'))
    op.drop_table('item_package')

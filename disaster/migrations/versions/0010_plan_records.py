"""plan records

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 00:30:00

``plan_record`` holds the マイプラン made with each resident (current fields, status, the
fingerprint of the data it was issued on, why it needs review); ``plan_version`` every save of it
(author, role, made with whom, fields, changes).
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('fingerprint', sa.JSON(), nullable=True),
    sa.Column('review_reasons', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_plan_record_resident_id_resident'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_record')),
    sa.UniqueConstraint('resident_id', name=op.f('uq_plan_record_resident_id'))
    )
    with op.batch_alter_table('plan_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_record_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_record_next_review_on'), ['next_review_on'], unique=False)
    op.create_table('plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_login', sa.String(length=80), nullable=False),
    sa.Column('author_role', sa.String(length=20), nullable=False),
    sa.Column('made_with', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['plan_record.id'], name=op.f('fk_plan_version_record_id_plan_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_version')),
    sa.UniqueConstraint('record_id', 'version', name=op.f('uq_plan_version_record_id'))
    )
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_version_record_id'), ['record_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_version_record_id'))
    op.drop_table('plan_version')
    with op.batch_alter_table('plan_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_record_next_review_on'))
        batch_op.drop_index(batch_op.f('ix_plan_record_status'))
    op.drop_table('plan_record')

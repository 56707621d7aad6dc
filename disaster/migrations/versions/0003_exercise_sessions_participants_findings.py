"""exercise sessions participants findings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:12:12.049371
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exercise_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.String(length=120), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('hazard', sa.String(length=20), nullable=False),
    sa.Column('facilitator', sa.String(length=80), nullable=True),
    sa.Column('rating_overall', sa.Integer(), nullable=True),
    sa.Column('rating_understanding', sa.Integer(), nullable=True),
    sa.Column('rating_usefulness', sa.Integer(), nullable=True),
    sa.Column('strengths', sa.Text(), nullable=True),
    sa.Column('improvements', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_exercise_session_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_session')),
    sa.UniqueConstraint('record_key', name=op.f('uq_exercise_session_record_key'))
    )
    with op.batch_alter_table('exercise_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_session_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exercise_session_held_on'), ['held_on'], unique=False)

    op.create_table('exercise_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('issue', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=True),
    sa.Column('owner', sa.String(length=80), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_exercise_finding_resident_id_resident'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['exercise_session.id'], name=op.f('fk_exercise_finding_session_id_exercise_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_finding'))
    )
    with op.batch_alter_table('exercise_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_finding_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exercise_finding_session_id'), ['session_id'], unique=False)

    op.create_table('exercise_participants',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['exercise_session.id'], name=op.f('fk_exercise_participants_session_id_exercise_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'role', name=op.f('pk_exercise_participants'))
    )


def downgrade() -> None:
    op.drop_table('exercise_participants')
    with op.batch_alter_table('exercise_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_finding_session_id'))
        batch_op.drop_index(batch_op.f('ix_exercise_finding_resident_id'))

    op.drop_table('exercise_finding')
    with op.batch_alter_table('exercise_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_session_held_on'))
        batch_op.drop_index(batch_op.f('ix_exercise_session_district_id'))

    op.drop_table('exercise_session')

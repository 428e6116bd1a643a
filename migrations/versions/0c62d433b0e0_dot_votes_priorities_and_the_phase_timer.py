"""dot votes, priorities and the phase timer

Revision ID: 0c62d433b0e0
Revises: b33d2232c8a8
Create Date: 2026-11-28 12:15:00.237743

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0c62d433b0e0'
down_revision = 'b33d2232c8a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('budget', sa.Integer(), nullable=False),
    sa.Column('cap', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('by_kind', sa.Boolean(), nullable=False),
    sa.Column('kind_budgets', sa.JSON(), nullable=False),
    sa.Column('results', sa.String(length=10), nullable=False),
    sa.Column('revealed', sa.Boolean(), nullable=False),
    sa.Column('screen', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], name=op.f('fk_vote_cluster_id_cluster'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_vote_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote'))
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('dot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('dots', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('dots > 0', name=op.f('ck_dot_dots_positive')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_dot_card_id_card'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_dot_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_dot_vote_id_vote'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dot')),
    sa.UniqueConstraint('vote_id', 'participant_id', 'card_id', name=op.f('uq_dot_vote_id'))
    )
    with op.batch_alter_table('dot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dot_card_id'), ['card_id'], unique=False)

    op.create_table('priority',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('vote_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('dots', sa.Integer(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_priority_card_id_card'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_priority_vote_id_vote'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_priority_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_priority')),
    sa.UniqueConstraint('workshop_id', 'card_id', name=op.f('uq_priority_workshop_id'))
    )
    with op.batch_alter_table('priority', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_priority_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('vote_item',
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_vote_item_card_id_card'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_vote_item_vote_id_vote'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('vote_id', 'card_id', name=op.f('pk_vote_item'))
    )
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timer_phase', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('timer_ends_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('timer_left', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.drop_column('timer_left')
        batch_op.drop_column('timer_ends_at')
        batch_op.drop_column('timer_phase')

    op.drop_table('vote_item')
    with op.batch_alter_table('priority', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_priority_workshop_id'))

    op.drop_table('priority')
    with op.batch_alter_table('dot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dot_card_id'))

    op.drop_table('dot')
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_workshop_id'))

    op.drop_table('vote')

"""joint offers, actions, outcomes

Revision ID: 618ff5eba0d8
Revises: 0c62d433b0e0
Create Date: 2026-11-28 15:13:32.271383

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '618ff5eba0d8'
down_revision = '0c62d433b0e0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_outcome_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome')),
    sa.UniqueConstraint('workshop_id', 'version', name=op.f('uq_outcome_workshop_id'))
    )
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('joint_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['participant.id'], name=op.f('fk_joint_offer_created_by_id_participant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_joint_offer_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_offer'))
    )
    with op.batch_alter_table('joint_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_joint_offer_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('offer_card',
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_offer_card_card_id_card'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['joint_offer.id'], name=op.f('fk_offer_card_offer_id_joint_offer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offer_id', 'card_id', name=op.f('pk_offer_card'))
    )
    op.create_table('offer_section',
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['joint_offer.id'], name=op.f('fk_offer_section_offer_id_joint_offer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offer_id', 'key', name=op.f('pk_offer_section'))
    )
    op.create_table('action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('owner_name', sa.String(length=80), nullable=False),
    sa.Column('owner_org', sa.String(length=160), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('step', sa.String(length=12), nullable=True),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('priority_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('validated', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_action_card_id_card'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['joint_offer.id'], name=op.f('fk_action_offer_id_joint_offer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['participant.id'], name=op.f('fk_action_owner_id_participant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['priority_id'], ['priority.id'], name=op.f('fk_action_priority_id_priority'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['participant.id'], name=op.f('fk_action_proposed_by_id_participant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_action_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action'))
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_workshop_id'), ['workshop_id'], unique=False)

    # A plain ADD COLUMN and a unique index: no table rebuild on SQLite.
    op.add_column('workshop', sa.Column('share_token', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_workshop_share_token'), 'workshop', ['share_token'], unique=True)



def downgrade():
    op.drop_index(op.f('ix_workshop_share_token'), table_name='workshop')
    op.drop_column('workshop', 'share_token')

    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_workshop_id'))

    op.drop_table('action')
    op.drop_table('offer_section')
    op.drop_table('offer_card')
    with op.batch_alter_table('joint_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_joint_offer_workshop_id'))

    op.drop_table('joint_offer')
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_workshop_id'))

    op.drop_table('outcome')

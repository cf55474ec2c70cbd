"""Reminders where people look: email reminders on or off, a private calendar feed (on or off,
its secret kept as a SHA-256), how a change was made in the history ("reminder"), and the
one-tap actions done (each token's SHA-256, so that a token acts once).

Revision ID: c5d1e8a7f3b2
Revises: c4e9a7d2b815
Create Date: 2026-12-04 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5d1e8a7f3b2'
down_revision = 'c4e9a7d2b815'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('action_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.String(length=10), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('moved_to', sa.Date(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_action_uses_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_uses')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_action_uses_token_hash'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_reminders', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('calendar_feed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('calendar_secret_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_calendar_secret_hash'), ['calendar_secret_hash'])

    with op.batch_alter_table('history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=20), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('history', schema=None) as batch_op:
        batch_op.drop_column('via')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_calendar_secret_hash'), type_='unique')
        batch_op.drop_column('calendar_secret_hash')
        batch_op.drop_column('calendar_feed')
        batch_op.drop_column('email_reminders')

    op.drop_table('action_uses')

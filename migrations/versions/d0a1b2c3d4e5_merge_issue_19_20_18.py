"""One head again: push subscriptions, reminder channels, the Next Call a call completed and
visit lengths per call type were made side by side; nothing to change.

Revision ID: d0a1b2c3d4e5
Revises: c4e9a7d2b815, c5d18e2f7a40, c5d1e8a7f3b2, c5d2e8f4a1b7
Create Date: 2026-12-04 16:16:18.682105

"""
# revision identifiers, used by Alembic.
revision = 'd0a1b2c3d4e5'
down_revision = ('c4e9a7d2b815', 'c5d18e2f7a40', 'c5d1e8a7f3b2', 'c5d2e8f4a1b7')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

"""The reminder delivery ledger: one row per (user, item, due date), and one per swept day.

Revision ID: 9d7f64891d64
Revises: 9c8fc416aa06
Create Date: 2026-11-23 15:25:20.075824

"""
from alembic import op
import sqlalchemy as sa


revision = "9d7f64891d64"
down_revision = "9c8fc416aa06"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=10), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "item_kind IN ('task', 'touchpoint', 'day')",
            name=op.f("ck_reminder_deliveries_item_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'skipped', 'failed', 'swept')",
            name=op.f("ck_reminder_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminder_deliveries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_deliveries")),
        # Exactly once: a second sweep's plan for the same item and date inserts nothing.
        sa.UniqueConstraint(
            "user_id", "item_kind", "item_id", "due_date", name="uq_reminder_deliveries_item"
        ),
    )
    # Pending rows to send, and claims whose lease ran out.
    op.create_index(
        "ix_reminder_deliveries_status_claimed_at",
        "reminder_deliveries",
        ["status", "claimed_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_reminder_deliveries_status_claimed_at", table_name="reminder_deliveries")
    op.drop_table("reminder_deliveries")

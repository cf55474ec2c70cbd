"""Web Push: each device's subscription, and a channel (email or push) in the reminder ledger's
unique key; the rows there already are emails.

Revision ID: c4e9a7d2b815
Revises: a3ad0c75c348
Create Date: 2026-12-04 16:20:00

"""

from alembic import op
import sqlalchemy as sa


revision = "c4e9a7d2b815"
down_revision = "a3ad0c75c348"
branch_labels = None
depends_on = None

KEY = ["user_id", "item_kind", "item_id", "due_date"]


def upgrade():
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=800), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_push_subscriptions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index(
        op.f("ix_push_subscriptions_user_id"), "push_subscriptions", ["user_id"], unique=False
    )
    with op.batch_alter_table("reminder_deliveries") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=5), server_default="email", nullable=False)
        )
        batch.drop_constraint("uq_reminder_deliveries_item", type_="unique")
        batch.create_unique_constraint("uq_reminder_deliveries_item", [*KEY, "channel"])
        batch.create_check_constraint(
            op.f("ck_reminder_deliveries_channel"), "channel IN ('email', 'push')"
        )


def downgrade():
    with op.batch_alter_table("reminder_deliveries") as batch:
        batch.drop_constraint(op.f("ck_reminder_deliveries_channel"), type_="check")
        batch.drop_constraint("uq_reminder_deliveries_item", type_="unique")
    # Back to one row per item: the pushes go, the emails stay.
    op.execute("DELETE FROM reminder_deliveries WHERE channel = 'push'")
    with op.batch_alter_table("reminder_deliveries") as batch:
        batch.create_unique_constraint("uq_reminder_deliveries_item", KEY)
        batch.drop_column("channel")
    op.drop_index(op.f("ix_push_subscriptions_user_id"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")

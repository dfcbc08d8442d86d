"""actions: order actions pinned to a version and their communications per channel

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_actions",
        sa.Column("action_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("version_tag", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("api_key_id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_order_actions")),
        sa.UniqueConstraint("job_id", name=op.f("uq_order_actions_job_id")),
    )
    with op.batch_alter_table("order_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_actions_contact_id_created_at", ["contact_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_order_actions_order_id_created_at", ["order_id", "created_at"], unique=False
        )

    op.create_table(
        "communications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("version_tag", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("recipient", sa.String(length=2048), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["order_actions.action_id"],
            name=op.f("fk_communications_action_id_order_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communications")),
        sa.UniqueConstraint(
            "action_id", "channel", name=op.f("uq_communications_action_id_channel")
        ),
    )
    with op.batch_alter_table("communications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_communications_contact_id_created_at", ["contact_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_communications_order_id_created_at", ["order_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_communications_status_created_at", ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("communications", schema=None) as batch_op:
        batch_op.drop_index("ix_communications_status_created_at")
        batch_op.drop_index("ix_communications_order_id_created_at")
        batch_op.drop_index("ix_communications_contact_id_created_at")

    op.drop_table("communications")
    with op.batch_alter_table("order_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_order_actions_order_id_created_at")
        batch_op.drop_index("ix_order_actions_contact_id_created_at")

    op.drop_table("order_actions")

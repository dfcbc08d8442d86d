"""loyalty: the ledger entries served by GET /contacts/{id}/loyalty

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loyalty_entries",
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("unique_receipt_id", sa.String(length=128), nullable=False),
        sa.Column("entry_type", sa.String(length=32), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_number", sa.Integer(), nullable=False),
        sa.Column("occurred_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_loyalty_entries")),
    )
    with op.batch_alter_table("loyalty_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loyalty_entries_contact_id_change_seq", ["contact_id", "change_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("loyalty_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_entries_contact_id_change_seq")
    op.drop_table("loyalty_entries")

"""gdpr_requests: erasure requests of contacts (soft delete, restore, later erasure)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gdpr_requests",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("contact_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("erase_after", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=True),
        sa.Column("restored_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("erased_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_gdpr_requests")),
    )
    with op.batch_alter_table("gdpr_requests", schema=None) as batch_op:
        batch_op.create_index("ix_gdpr_requests_contact_hash", ["contact_hash"], unique=False)
        batch_op.create_index(
            "ix_gdpr_requests_contact_id_status", ["contact_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_gdpr_requests_status_erase_after", ["status", "erase_after"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gdpr_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_gdpr_requests_status_erase_after")
        batch_op.drop_index("ix_gdpr_requests_contact_id_status")
        batch_op.drop_index("ix_gdpr_requests_contact_hash")

    op.drop_table("gdpr_requests")

"""gdpr_requests gain reason, completion, run and audit; personal_data_extracts

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gdpr_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reason", sa.String(length=16), nullable=False, server_default="request"
            )
        )
        batch_op.add_column(
            sa.Column("completed_at", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("run_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("audit", sa.Text(), nullable=True))
        batch_op.alter_column(
            "erase_after",
            existing_type=storage.models.UtcDateTime(timezone=True),
            nullable=True,
        )
        batch_op.create_index("ix_gdpr_requests_kind_status", ["kind", "status"], unique=False)
    op.create_table(
        "personal_data_extracts",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["gdpr_requests.request_id"],
            name=op.f("fk_personal_data_extracts_request_id_gdpr_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_personal_data_extracts")),
    )


def downgrade() -> None:
    op.drop_table("personal_data_extracts")
    with op.batch_alter_table("gdpr_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_gdpr_requests_kind_status")
        batch_op.alter_column(
            "erase_after",
            existing_type=storage.models.UtcDateTime(timezone=True),
            nullable=False,
        )
        batch_op.drop_column("audit")
        batch_op.drop_column("run_id")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("reason")

"""platform retries, the supervisor's pid, a try's log error

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task_instance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("platform_retries", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("supervisor_pid", sa.Integer(), nullable=True))
    with op.batch_alter_table("task_instance_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_instance_history", schema=None) as batch_op:
        batch_op.drop_column("log_error")
    with op.batch_alter_table("task_instance", schema=None) as batch_op:
        batch_op.drop_column("supervisor_pid")
        batch_op.drop_column("platform_retries")

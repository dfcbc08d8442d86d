"""The step of the daily inactivity deletion (SPEC 2.4): contacts without an order, receipt or
contact change for ENGAGE_GDPR_INACTIVITY_DAYS are deleted the way `DELETE /contacts/{id}`
deletes them (soft delete plus an erasure request with the grace period); the erasure job
removes their data once the grace period is over.

The run's metadata and logs carry counts and the policy only, never a contact id: the event log
is kept, shown in the UI and shipped to whoever reads Dagster's storage.
"""

# No `from __future__ import annotations`: Dagster inspects the op's annotations at runtime.
from datetime import timedelta

import dagster as dg

from assets.resources import GdprPolicy, OperationalDatabase
from storage.inactivity import delete_inactive_contacts
from storage.models import utcnow


@dg.op(
    description=(
        "Soft-delete every live contact with no order, receipt or contact change for the "
        "configured number of days (ENGAGE_GDPR_INACTIVITY_DAYS; 0 turns this off) and record "
        "an erasure request (reason inactivity) with the grace period for each, as DELETE "
        "/contacts/{id} does. Records counts only, never a contact."
    ),
)
def soft_delete_inactive_contacts(
    context: dg.OpExecutionContext, database: OperationalDatabase, gdpr_policy: GdprPolicy
) -> None:
    days = gdpr_policy.inactivity_days
    if days == 0:
        context.log.info("deletion for inactivity is off (ENGAGE_GDPR_INACTIVITY_DAYS=0)")
        context.add_output_metadata({"deleted": 0, "inactivity_days": 0})
        return
    now = utcnow()
    cutoff = now - timedelta(days=days)
    with database.session() as session:
        deleted = delete_inactive_contacts(
            session, gdpr_policy.key(), gdpr_policy.grace, cutoff, now
        )
    context.log.info(f"{deleted} contact(s) inactive since {cutoff.isoformat()} deleted")
    context.add_output_metadata(
        {
            "deleted": deleted,
            "inactivity_days": days,
            "cutoff": dg.MetadataValue.timestamp(cutoff),
        }
    )

"""The step the `extract_personal_data` job runs: build every due personal data extract.

An extract is the contact's personal data by definition, so nothing of it may reach Dagster: logs,
metadata, tags and run config name requests by request id and carry counts only. An error's text
is not logged either (it may quote a value); its type and the request id are enough to look
further.
"""

import dagster as dg

from assets.resources import LakeResource, OperationalDatabase
from storage.gdpr import get_request
from storage.personal_data_document import build_extract
from storage.personal_data_extract import (
    ExtractNotBuilt,
    complete_extract,
    due_extracts,
    extract_contact,
    fail_extract,
    start_extract,
)


@dg.op(
    description=(
        "Build the JSON document of every pending personal data extract request (the contact, "
        "its orders with every version, receipts, communications, loyalty ledger and "
        "integration-log entries) and store it with the request, which becomes Completed. A "
        "request that cannot be built becomes Failed; the others go on."
    ),
)
def build_personal_data_extracts(
    context: dg.OpExecutionContext, lake: LakeResource, database: OperationalDatabase
) -> None:
    with database.session() as session:
        request_ids = [request.request_id for request in due_extracts(session)]
    built = failed = size = 0
    for request_id in request_ids:
        stored = _build_one(context, lake, database, request_id)
        if stored is None:
            failed += 1
        else:
            built += 1
            size += stored
    context.add_output_metadata({"extracts_built": built, "extracts_failed": failed, "bytes": size})
    if failed:
        context.log.warning(f"{failed} extract(s) failed; see GET /gdpr/requests/{{requestId}}")


def _build_one(
    context: dg.OpExecutionContext,
    lake: LakeResource,
    database: OperationalDatabase,
    request_id: str,
) -> int | None:
    """Build and store one extract; its size in bytes, or None when the request became Failed.

    A session of its own per request, so one request's failure cannot leave another half
    written. The request is Failed when its contact is gone or hidden (erased or deleted since
    it was requested, also while the document was being built: nothing is stored then), or when
    building it raised.
    """
    with database.session() as session:
        start_extract(session, request_id, context.run_id)
        try:
            request = get_request(session, request_id)
            if request is None:
                raise ExtractNotBuilt
            document = build_extract(lake.lake, session, extract_contact(session, request))
            size = complete_extract(session, request_id, document)
        except ExtractNotBuilt:
            session.rollback()
            fail_extract(session, request_id)
            context.log.warning(f"extract {request_id}: the contact is erased or deleted")
            return None
        except Exception as error:  # one bad request must not stop the others
            session.rollback()
            fail_extract(session, request_id)
            context.log.error(f"extract {request_id} failed ({type(error).__name__})")
            return None
    context.log.info(f"extract {request_id} built ({size} bytes)")
    return size

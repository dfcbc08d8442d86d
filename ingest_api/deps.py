"""FastAPI dependencies: settings, database sessions, the calling API key and its scopes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from ingest_api.api_key_cache import ApiKeyCache
from ingest_api.body import read_json
from ingest_api.errors import ProblemError
from ingest_api.landing import GroupCommitter
from ingest_api.rate_limit import RateLimiter
from schemas.automations import Automations
from schemas.table_spec import TableSpec
from storage.apikeys import Principal, Scope, authenticate
from storage.contacts import get_live_contact
from storage.db import session_factory, session_scope
from storage.models import Contact
from storage.settings import EngageSettings

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread
# pool, and four such hops took the bare app from 2.45k to 1.37k requests/s.


async def get_settings(request: Request) -> EngageSettings:
    return request.app.state.settings


SettingsDep = Annotated[EngageSettings, Depends(get_settings)]


async def get_automations(request: Request) -> Automations:
    """The automations loaded (and validated) when the app was created."""
    return request.app.state.automations


AutomationsDep = Annotated[Automations, Depends(get_automations)]


async def json_body(request: Request, settings: SettingsDep) -> bytes:
    """The raw JSON body (415/413 checked), read as a dependency so that handlers doing database
    work can be plain `def`s, which FastAPI runs off the event loop."""
    return await read_json(request, settings.max_body_bytes)


JsonBody = Annotated[bytes, Depends(json_body)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    session = session_factory(settings.resolved_database_url)()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_principal(
    request: Request,
    settings: SettingsDep,
    apikey: Annotated[str | None, Header(alias="apikey", include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(alias="x-api-key", include_in_schema=False)] = None,
) -> Principal:
    key = apikey or x_api_key
    if not key:
        raise missing_api_key()
    cache: ApiKeyCache = request.app.state.api_keys

    async def look_up(key: str) -> Principal | None:
        return await run_in_threadpool(_authenticate, settings.resolved_database_url, key)

    principal = await cache.principal(key, look_up)
    if principal is None:
        raise invalid_api_key()
    return principal


def missing_api_key() -> ProblemError:
    """401 for a request without a key (also the OpenAPI example, ingest_api/api_docs)."""
    return ProblemError(
        401,
        "Unauthorized",
        "Send your API key in the 'apikey' header.",
        headers={"WWW-Authenticate": "apikey"},
        code="MissingApiKey",
    )


def invalid_api_key() -> ProblemError:
    """401 for a key that is unknown or revoked."""
    return ProblemError(
        401,
        "Unauthorized",
        "The API key is unknown or revoked.",
        headers={"WWW-Authenticate": "apikey"},
        code="InvalidApiKey",
    )


def _authenticate(database_url: str, key: str) -> Principal | None:
    # A short session of its own: a write request then holds no connection while it waits for
    # its group commit, so a burst of writers cannot exhaust the pool.
    with session_scope(database_url) as session:
        return authenticate(session, key)


REQUIRED_SCOPES: dict[Callable[..., Awaitable[Principal]], tuple[Scope, ...]] = {}
"""Each `require_scope` dependency → the scopes it admits, so the OpenAPI document states the
scope an operation needs from the dependency that enforces it (ingest_api/api_docs)."""


def require_scope(*scopes: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits a key holding any of `scopes` (or admin)."""

    async def check(
        request: Request, principal: Annotated[Principal, Depends(get_principal)]
    ) -> Principal:
        if not any(principal.allows(scope) for scope in scopes):
            raise missing_scope(scopes)
        _enforce_rate_limit(request.app.state.rate_limiter, principal)
        return principal

    REQUIRED_SCOPES[check] = scopes
    return check


def missing_scope(scopes: tuple[Scope, ...]) -> ProblemError:
    """403 for a key that holds none of `scopes`."""
    needed = " or ".join(scope.value for scope in scopes)
    return ProblemError(
        403, "Forbidden", f"This API key lacks the scope {needed}.", code="MissingScope"
    )


def _enforce_rate_limit(limiter: RateLimiter, principal: Principal) -> None:
    """429 with Retry-After when the key has used up its requests (ingest_api/rate_limit.py)."""
    wait = limiter.wait_seconds(principal.key_id)
    if wait > 0:
        raise rate_limited(limiter.rate, limiter.burst, limiter.retry_after(wait))


def rate_limited(rate: float, burst: int, retry_after: str) -> ProblemError:
    """429 for a key that used up its `rate` requests a second (bursts of `burst`)."""
    return ProblemError(
        429,
        "Too Many Requests",
        f"This API key may make {rate:g} requests a second (bursts of "
        f"{burst}); retry after the Retry-After seconds.",
        headers={"Retry-After": retry_after},
        code="RateLimited",
    )


LANDING_DEPENDENCIES: set[Callable[..., Awaitable[GroupCommitter]]] = set()
"""The `committer_for` dependencies: an operation using one lands its body in bronze, so the
OpenAPI document lists the 503 `LandingFailed` for it (ingest_api/api_docs)."""


def committer_for(spec: TableSpec) -> Callable[[Request], Awaitable[GroupCommitter]]:
    """A dependency giving the group committer that lands rows in the bronze table `spec`."""

    async def committer(request: Request) -> GroupCommitter:
        return request.app.state.committers[spec.name]

    LANDING_DEPENDENCIES.add(committer)
    return committer


def live_contact(session: Session, contact_id: str) -> Contact:
    """The live contact with this id; anything else, a malformed id included, is a 404 problem
    (`ContactNotFound`)."""
    try:
        canonical = str(uuid.UUID(contact_id))
    except ValueError:
        raise contact_not_found() from None
    contact = get_live_contact(session, canonical)
    if contact is None:
        raise contact_not_found()
    return contact


def contact_not_found() -> ProblemError:
    return ProblemError(404, "Not Found", "No such contact.", code="ContactNotFound")

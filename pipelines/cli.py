"""The `engage-orders` command: run the product, process pending work, manage API keys, and
query the gold tables and preview segments as an analyst.

Heavy imports (FastAPI, Dagster, the pipeline definitions) happen inside the commands so that
`--help` and `apikey` stay fast and a broken pipeline module cannot break key management.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from pipelines.dagster_home import ensure_dagster_home, prepare_dagster_instance
from schemas.automations import AutomationsError
from storage.settings import EngageSettings

if TYPE_CHECKING:
    from datetime import datetime

    from schemas.article_xml import ArticleXmlError
    from storage.models import ApiKey

DEFAULT_HOST = "127.0.0.1"
DEFAULT_API_PORT = 8000
DEFAULT_UI_PORT = 3000
PORT = click.IntRange(1, 65535)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKSPACE = PROJECT_ROOT / "workspace.yaml"


def _configure_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic narrates every start-up at INFO (plugins, "will assume ..."); only problems matter.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Engage Orders v3 compatible orders platform.

    Configured through ENGAGE_* environment variables (ENGAGE_HOME, ENGAGE_LAKE_URI,
    ENGAGE_DATABASE_URL, ENGAGE_BOOTSTRAP_API_KEY).
    """


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option("--port", default=DEFAULT_API_PORT, show_default=True, type=PORT)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Intake processes sharing the port (each has its own group commit).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the intake (the Orders v3 HTTP API) only, without Dagster."""
    import uvicorn

    _configure_logging(logging.INFO)
    try:
        if workers > 1:
            # Workers build the app in their own processes, where a broken automations file
            # would only kill them one by one: check it here first.
            from ingest_api.app import create_app

            create_app()
        with _shared_metrics(workers):
            # Uvicorn's access log prints query strings (e.g. ?email=...): ours leaves them out.
            uvicorn.run(
                "ingest_api.app:served_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                lifespan="on",
                access_log=False,
                timeout_keep_alive=EngageSettings().keep_alive_seconds,
            )
    except AutomationsError as error:
        # One line per problem, not a traceback: the file is the operator's to fix.
        raise click.ClickException(str(error)) from None


@contextlib.contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, each counts in files of a folder they share, and `/metrics` adds
    them up (prometheus_client's multiprocess mode); the folder goes when the intake stops."""
    from ingest_api.metrics import METRICS_FOLDER_VARIABLE

    if workers == 1 or os.environ.get(METRICS_FOLDER_VARIABLE):
        yield
        return
    folder = tempfile.mkdtemp(prefix="engage-metrics-")
    os.environ[METRICS_FOLDER_VARIABLE] = folder
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@main.command()
def migrate() -> None:
    """Bring the operational database to the newest schema and create the bootstrap key.

    Every process also migrates when it starts, so a single machine never needs this. A
    deployment runs it once before rolling out a new version (deploy/: a Kubernetes Job), so
    that no new pod starts against an old schema and no two pods race to migrate it.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from ingest_api.app import prepare_storage
    from storage.db import newest_revision, schema_revision

    _configure_logging(logging.INFO)
    settings = EngageSettings()
    url = settings.resolved_database_url
    try:
        before = schema_revision(url)
        prepare_storage(settings)
        after = schema_revision(url)
    except DBAPIError as error:
        where = make_url(url).render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise click.ClickException(f"cannot migrate {where}: {reason}") from None
    if after != newest_revision():
        raise click.ClickException(f"the database is at {after}, not at {newest_revision()}")
    change = (
        "already at" if before == after else f"migrated from {before or 'an empty database'} to"
    )
    click.echo(f"Operational database {change} revision {after}.")


@main.command()
@click.option(
    "--skip-gold",
    is_flag=True,
    help="Leave the gold build (star schema, segments) to its sensor: process and deliver only.",
)
def process(skip_gold: bool) -> None:
    """Run all pending pipeline work once, synchronously, through Dagster.

    The runs are recorded in the instance in DAGSTER_HOME, so they show in the Dagster UI.
    Exits 0 when every run succeeded, 1 otherwise.
    """
    from pipelines.processing import process_pending

    _configure_logging(logging.INFO)
    settings = EngageSettings()
    ensure_dagster_home(settings)
    sys.exit(0 if process_pending(settings, gold=not skip_gold) else 1)


@main.command()
@click.option("--contacts", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--orders", default=500, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option(
    "--days", default=60, show_default=True, type=click.IntRange(1, 3_650), help="History length."
)
@click.option("--seed", type=int, help="Same seed, same data [default: the sample world's].")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="The history ends here (UTC) [default: today, 00:00].",
)
@click.option(
    "--api-url",
    default=None,
    help="Post to this running intake (e.g. http://127.0.0.1:8000) instead of one of its own.",
)
@click.option(
    "--ui-url",
    default=f"http://{DEFAULT_HOST}:{DEFAULT_UI_PORT}",
    show_default=True,
    help="The Dagster UI the summary points to (`engage-orders run --ui-port`).",
)
def demo(
    contacts: int,
    orders: int,
    days: int,
    seed: int | None,
    as_of: datetime | None,
    api_url: str | None,
    ui_url: str,
) -> None:
    """Post a seeded retail history through the HTTP API, then process it.

    Stores, an article register, contacts, orders through their life-cycle (deliveries, status
    changes, returns) and receipts of delivered and returned goods, as integrators would have sent
    them over the last DAYS days. Exits 0 when everything was accepted and processed.
    """
    from pipelines.demo.command import as_of_default, run_demo
    from pipelines.demo.script import DemoScript
    from schemas.sample_orders import DEFAULT_SEED

    _configure_logging(logging.WARNING)
    settings = EngageSettings()
    ensure_dagster_home(settings)
    now = as_of.replace(tzinfo=UTC) if as_of else as_of_default()
    script = DemoScript(contacts, orders, days, DEFAULT_SEED if seed is None else seed, now)
    sys.exit(0 if run_demo(script, settings, api_url, ui_url.rstrip("/")) else 1)


@main.group()
def apikey() -> None:
    """Manage API keys for the intake."""


@apikey.command("create")
@click.option(
    "--scopes",
    "scope_args",
    multiple=True,
    required=True,
    help="Comma-separated scopes, e.g. orders:write,orders:read; may be repeated.",
)
@click.option("--name", default="cli", show_default=True, help="A label to recognise the key by.")
def apikey_create(scope_args: tuple[str, ...], name: str) -> None:
    """Create a key and print it once on stdout; only its hash is stored."""
    from ingest_api.app import prepare_storage
    from storage.apikeys import create_api_key
    from storage.db import session_scope

    _configure_logging(logging.WARNING)
    scopes = _parse_scope_option(scope_args)
    settings = EngageSettings()
    prepare_storage(settings)
    with session_scope(settings.resolved_database_url) as session:
        record, key = create_api_key(session, name, scopes)
        key_id = record.id
    click.echo(key)
    click.echo(
        f"Created key {name!r} (id {key_id}) with scopes {', '.join(sorted(scopes))}. "
        "Store it now: it cannot be shown again. Send it in the `apikey` header.",
        err=True,
    )


@apikey.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def apikey_list(include_revoked: bool, as_json: bool) -> None:
    """List keys: id, name, the key's first characters, scopes, created, revoked."""
    from ingest_api.app import prepare_storage
    from storage.apikeys import list_api_keys
    from storage.db import session_scope

    _configure_logging(logging.WARNING)
    settings = EngageSettings()
    prepare_storage(settings)
    with session_scope(settings.resolved_database_url) as session:
        rows = [_key_row(record) for record in list_api_keys(session, include_revoked)]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    click.echo(f"{'ID':<36}  {'NAME':<20}  {'PREFIX':<8}  {'CREATED':<20}  {'REVOKED':<20}  SCOPES")
    for row in rows:
        click.echo(
            f"{row['id']:<36}  {row['name'][:20]:<20}  {row['prefix']:<8}  {row['created']:<20}  "
            f"{row['revoked'] or '-':<20}  {' '.join(row['scopes'])}"
        )


@apikey.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke the key with this id (see `apikey list`): intakes refuse it within a second."""
    from storage.apikeys import UnknownApiKey, revoke_api_key
    from storage.db import session_scope

    _configure_logging(logging.WARNING)
    settings = EngageSettings()
    try:
        with session_scope(settings.resolved_database_url) as session:
            record = revoke_api_key(session, key_id)
            name = record.name
    except UnknownApiKey:
        raise click.BadParameter(f"no key has the id {key_id}", param_hint="KEY_ID") from None
    click.echo(f"Revoked key {name!r} (id {key_id}).", err=True)


@apikey.command("rotate")
@click.argument("key_id")
@click.option(
    "--keep-old",
    is_flag=True,
    help="Leave the old key working until it is revoked (switch clients over first).",
)
def apikey_rotate(key_id: str, keep_old: bool) -> None:
    """Replace a key with a new one of the same name and scopes; print the new key on stdout."""
    from storage.apikeys import UnknownApiKey, rotate_api_key
    from storage.db import session_scope

    _configure_logging(logging.WARNING)
    settings = EngageSettings()
    try:
        with session_scope(settings.resolved_database_url) as session:
            record, key = rotate_api_key(session, key_id, keep_old)
            new_id = record.id
    except UnknownApiKey:
        raise click.BadParameter(f"no live key has the id {key_id}", param_hint="KEY_ID") from None
    click.echo(key)
    old = "still works until revoked" if keep_old else "is revoked"
    click.echo(f"New key id {new_id}; the old key {old}. It cannot be shown again.", err=True)


def _key_row(record: ApiKey) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "prefix": record.key_prefix,
        "scopes": sorted(record.scopes.split()),
        "created": _timestamp(record.created_at),
        "revoked": _timestamp(record.revoked_at) if record.revoked_at else None,
    }


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_scope_option(scope_args: tuple[str, ...]) -> frozenset[str]:
    """Accept both `--scopes a,b` and `--scopes a --scopes b`; reject unknown scopes (exit 2)."""
    from storage.apikeys import parse_scopes

    names = [part.strip() for arg in scope_args for part in arg.split(",") if part.strip()]
    if not names:
        raise click.BadParameter("at least one scope is required", param_hint="--scopes")
    try:
        return parse_scopes(names)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--scopes") from error


@main.group()
def articles() -> None:
    """The article register."""


@articles.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def articles_import(file: Path) -> None:
    """Import an Engage article XML file of any size into the article register.

    The whole file is checked first: if any article is bad, the problems are printed with their
    element path (e.g. /articles/article[2]/awardsbonus), nothing is landed, and the exit code is
    2. Otherwise it is landed in chunks of 1000 articles, one job each (job ids on stdout); the
    `process_registers` run merges them into the register.
    """
    from ingest_api.app import prepare_storage
    from pipelines.article_import import FileChanged, check_file, land_file
    from schemas.article_xml import ArticleXmlError

    _configure_logging(logging.WARNING)
    settings = EngageSettings()
    prepare_storage(settings)
    try:
        total = check_file(file)
    except ArticleXmlError as error:
        _print_xml_problems(error, "nothing was imported")
        sys.exit(2)
    try:
        with click.progressbar(length=total, label="Landing articles", file=sys.stderr) as bar:
            summary = land_file(settings, file, bar.update)
    except FileChanged as error:
        _print_xml_problems(
            error,
            f"the file changed while importing; {error.summary.articles} "
            f"articles were landed in jobs {', '.join(error.summary.job_ids)}",
        )
        sys.exit(2)
    for job_id in summary.job_ids:
        click.echo(job_id)
    click.echo(
        f"Landed {summary.articles} articles in {len(summary.job_ids)} jobs; "
        "`engage-orders process` (or the running pipeline) merges them into the register.",
        err=True,
    )


def _print_xml_problems(error: ArticleXmlError, consequence: str) -> None:
    for problem in error.errors:
        click.echo(f"{problem.path}: {problem.code}: {problem.message}", err=True)
    click.echo(f"The article file is not valid; {consequence}.", err=True)


@main.command()
@click.argument("query")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table for reading, csv or json (every row) for other programs.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Rows shown in table format.",
)
def sql(query: str, output_format: Literal["table", "csv", "json"], max_rows: int) -> None:
    """Run one SQL QUERY (polars SQL) over the gold and segments tables and print the result.

    \b
    Tables: the star schema (dim_date, dim_contact, dim_article, dim_store, fact_order,
    fact_order_line, fact_receipt_line), sales_daily, contact_segmentation and
    segment_memberships. None holds personal data. `SHOW TABLES` lists them.

    \b
    engage-orders sql "SELECT main_category, count(*) AS n FROM dim_article GROUP BY 1"

    A query that cannot run prints why and exits 1.
    """
    from pipelines.analysis import QueryError, render, run_sql
    from storage.lake import Lake

    _configure_logging(logging.WARNING)
    lake = Lake(EngageSettings().resolved_lake_uri)
    try:
        frame = run_sql(lake, query)
    except QueryError as error:
        click.echo(f"The query failed: {error}", err=True)
        sys.exit(1)
    click.echo(render(frame, output_format, max_rows))


@main.group()
def segment() -> None:
    """Segments: try definitions out before saving them (POST /api/v3/segments)."""


@segment.command("preview")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints what POST /segments/preview answers.",
)
def segment_preview(file: Path, output_format: str) -> None:
    """Count the contacts a definition in FILE (.json, .yaml or .yml) selects, with a sample.

    The definition is validated as the API does (problems are printed with their JSON pointer and
    the exit code is 1) and evaluated on the current gold tables; soft-deleted contacts are left
    out. Nothing is saved.
    """
    from ingest_api.app import prepare_storage
    from pipelines.analysis import DefinitionError, preview_definition, read_definition

    _configure_logging(logging.WARNING)
    try:
        definition = read_definition(file)
    except DefinitionError as error:
        for problem in error.errors:
            click.echo(f"{problem.path or '/'}: {problem.code}: {problem.message}", err=True)
        click.echo(f"{error}; nothing was previewed.", err=True)
        sys.exit(1)
    settings = EngageSettings()
    prepare_storage(settings)
    result = preview_definition(settings, definition)
    if output_format == "json":
        click.echo(json.dumps({"count": result.count, "sample": result.sample}))
        return
    click.echo(f"count: {result.count}")
    click.echo(f"sample ({len(result.sample)}):")
    for contact_id in result.sample:
        click.echo(f"  {contact_id}")


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface for API and UI.")
@click.option("--api-port", default=DEFAULT_API_PORT, show_default=True, type=PORT)
@click.option("--ui-port", default=DEFAULT_UI_PORT, show_default=True, type=PORT)
@click.option(
    "--workspace",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_WORKSPACE,
    show_default=True,
    help="Dagster workspace file.",
)
def run(host: str, api_port: int, ui_port: int, workspace: Path) -> None:
    """Run everything on this machine: intake, Dagster webserver and daemon. Ctrl-C stops all."""
    from ingest_api.app import prepare_storage
    from pipelines.supervisor import ChildSpec, Supervisor, port_is_free

    _configure_logging(logging.INFO)
    for port, option in ((api_port, "--api-port"), (ui_port, "--ui-port")):
        if not port_is_free(host, port):
            raise click.BadParameter(f"port {port} on {host} is already in use", param_hint=option)
    settings = EngageSettings()
    dagster_home = ensure_dagster_home(settings)
    # Migrating once here, before the children start, spares them racing each other to do it.
    prepare_storage(settings)
    prepare_dagster_instance()
    workspace = workspace.resolve()
    specs = [
        ChildSpec(
            "intake",
            [_script("engage-orders"), "serve", "--host", host, "--port", str(api_port)],
            port=api_port,
        ),
        ChildSpec(
            "webserver",
            [_script("dagster-webserver"), "-h", host, "-p", str(ui_port), "-w", str(workspace)],
            port=ui_port,
        ),
        ChildSpec("daemon", [_script("dagster-daemon"), "run", "-w", str(workspace)]),
    ]
    supervisor = Supervisor(specs, _child_environment(settings))

    def announce() -> None:
        for line in _banner(host, api_port, ui_port, settings, dagster_home):
            supervisor.say(line)

    sys.exit(supervisor.run(on_ready=announce))


def _child_environment(settings: EngageSettings) -> dict[str, str]:
    """The environment with every location made absolute, so children agree whatever their cwd."""
    env = dict(os.environ)
    env["ENGAGE_HOME"] = str(settings.resolved_home)
    env["ENGAGE_LAKE_URI"] = settings.resolved_lake_uri
    env["ENGAGE_DATABASE_URL"] = settings.resolved_database_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _script(name: str) -> str:
    """A console script of this environment, so the children use the same interpreter."""
    beside_interpreter = Path(sys.executable).parent / name
    if beside_interpreter.exists():
        return str(beside_interpreter)
    found = shutil.which(name)
    if found is None:
        raise click.ClickException(f"{name} not found; is the environment installed (make venv)?")
    return found


def _banner(
    host: str, api_port: int, ui_port: int, settings: EngageSettings, dagster_home: Path
) -> list[str]:
    return [
        "engage-orders is running",
        f"  Orders API   http://{host}:{api_port}/api/v3  (OpenAPI docs: /docs)",
        f"  Dagster UI   http://{host}:{ui_port}",
        f"  Data         {settings.resolved_home}",
        f"  DAGSTER_HOME {dagster_home}",
        "  Create a key: engage-orders apikey create --scopes orders:write,orders:read",
        "Press Ctrl-C to stop.",
    ]


if __name__ == "__main__":
    main()

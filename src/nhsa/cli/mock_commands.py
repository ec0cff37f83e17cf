"""``nhsa mock``: serve the mock national platform, and print its transcript.

Example:
    $ export NHSA_MOCK_ADMIN_TOKEN=<a secret of 16+ characters>
    $ nhsa mock serve --port 8700 --db lab.db --profile tif+sm2
    $ nhsa mock serve --port 8700 --db lab.db --profile tif+sm2 --dialect jilin
    $ nhsa mock serve --db postgresql://lab:secret@127.0.0.1/nhsa_mock --workers 2
    $ nhsa mock transcript --tenant H53010100001 --db lab.db --since 120
    $ nhsa mock replay visit-H53010112345-3000000000042.json
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console

from nhsa.cli._extras import needs_extra
from nhsa.signing import Sm2PrivateKey
from nhsa.signing.errors import KeyMaterialError
from nhsa.spec import Dialect, DialectError, dialect_names
from nhsa.spec import dialect as spec_dialect

app = typer.Typer(help="Run the mock national platform and read what it saw (the mock extra).")

_ADMIN_ENV = "NHSA_MOCK_ADMIN_TOKEN"
_PRIVATE_FILE_MODE = 0o600
MIN_ADMIN_TOKEN_LENGTH = 16
"""An admin token shorter than this is refused: it guards every tenant's state and faults."""


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str) -> NoReturn:
    _err().print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def fail_plainly(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, the message printed as it is (it may quote ``[rule]`` brackets)."""
    _err().print(f"error: {message}", style="red", markup=False)
    raise typer.Exit(code)


def admin_token_problem(token: str) -> str | None:
    """Why ``token`` cannot be the admin token, or ``None`` when it can.

    An empty value is what ``--admin-token "$NHSA_MOCK_ADMIN_TOKEN"`` gives when the variable
    is unset: refusing it at start-up beats a server whose admin API nobody can use.

    Example:
        >>> admin_token_problem("")
        'is empty (is $NHSA_MOCK_ADMIN_TOKEN set?)'
        >>> admin_token_problem("secret")
        'is 6 characters long'
        >>> admin_token_problem("a-long-enough-admin-token") is None
        True
    """
    if not token.strip():
        return f"is empty (is ${_ADMIN_ENV} set?)"
    if any(character.isspace() for character in token):
        return "contains white space"
    if len(token) < MIN_ADMIN_TOKEN_LENGTH:
        return f"is {len(token)} characters long"
    return None


def _platform_key(
    path: Path | None, db: str, *, shared: bool, name: str = "platform-key"
) -> tuple[Sm2PrivateKey, Path]:
    """The platform's signing key (or, by ``name``, the lab console's): the given file, or one
    kept beside the database file as ``<db>.<name>.pem`` (beside a URL there is no file: one
    key for every worker of this run)."""
    if shared and path is None:
        return Sm2PrivateKey.generate(), Path(f"(generated; --{name} keeps one)")
    where = path or Path(db).with_name(f"{Path(db).name}.{name}.pem")
    if path is None and not where.exists():
        key = Sm2PrivateKey.generate()
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_bytes(key.to_pem())
            where.chmod(_PRIVATE_FILE_MODE)
        except OSError as exc:
            _fail(f"--db {db}: cannot write the {name} beside it ({exc.strerror})")
        return key, where
    try:
        return Sm2PrivateKey.from_file(where), where
    except KeyMaterialError as exc:
        _fail(f"--{name} {where}: {exc}")


def _check_admin_token(admin_token: str | None) -> None:
    if admin_token is not None and (problem := admin_token_problem(admin_token)):
        _fail(
            f"--admin-token {problem}: give a secret of at least {MIN_ADMIN_TOKEN_LENGTH} "
            "characters without spaces, or leave the option out and the server generates one "
            "and prints it"
        )


def _durability(sync: str) -> Literal["normal", "full"]:
    if sync not in ("normal", "full"):
        _fail(f"--sync {sync!r}: use normal or full")
    return "full" if sync == "full" else "normal"


def _check_db(db: str, workers: int, *, shared: bool) -> None:
    if not shared and Path(db).exists() and not Path(db).is_file():
        _fail(f"--db {db}: exists and is not a file")
    if workers < 1 or (workers > 1 and not shared):
        _fail(
            f"--workers {workers}: use 1, or several with --db postgresql://… "
            "(a SQLite file has one writer, so its workers could not share it)"
        )


def _dialect_option(name: str, *, profile: str) -> Dialect:
    """The ``--dialect`` given, checked against the gateway (``tif``) of ``--profile``."""
    from nhsa.signing import SigningProfile  # noqa: PLC0415

    gateway = SigningProfile.parse(profile).tif
    try:
        spoken = spec_dialect(name)
    except DialectError:
        _fail(f"--dialect {name!r}: use one of {', '.join(dialect_names())}")
    if gateway and spoken.gateway.family == "none":
        _fail(
            f"--dialect {spoken.name}: the {spoken.name} platform has no gateway; drop tif "
            "from --profile"
        )
    return spoken


def _print_banner(url: str, **rows: str) -> None:
    """What an operator needs to see once at start-up, one aligned row per setting."""
    lines = [f"nhsa mock platform on {url}"]
    lines += [f"  {name.replace('_', ' '):<13} {value}" for name, value in rows.items()]
    lines.append(f"  {'admin API':<13} /admin/openapi.json")
    Console(highlight=False, soft_wrap=True).print("\n".join(lines))


HostOption = Annotated[str, typer.Option(help="Address to listen on (loopback by default).")]
PortOption = Annotated[int, typer.Option(help="TCP port (0 picks a free one).")]
FixturesOption = Annotated[
    Path | None,
    typer.Option(help="Fixture folder (layout of conformance/fixtures/); bundled set if omitted."),
]
ProfileOption = Annotated[
    str,
    typer.Option(
        help="Signing profile of institutions registered without one: none, tif, sm2, tif+sm2."
    ),
]
DialectOption = Annotated[
    str,
    typer.Option(
        help="Province dialect of institutions registered without one: national, guangdong, "
        "guangzhou, hunan, jiangsu, jilin, sichuan (interface_specs/v1/dialects)."
    ),
]
SyncOption = Annotated[
    str, typer.Option(help="SQLite durability: normal (survives a crash) or full (a power cut).")
]
PlatformKeyOption = Annotated[
    Path | None,
    typer.Option(help="The platform's SM2 private key PEM; kept beside --db when omitted."),
]
LogLevelOption = Annotated[str, typer.Option(help="uvicorn log level.")]
"""Options ``nhsa mock serve`` and ``nhsa lab serve`` share."""


def _checked_options(
    admin_token: str | None, sync: str, profile: str, fixtures: Path | None
) -> tuple[Literal["normal", "full"], str]:
    """The options both servers check before anything starts: durability and profile."""
    from nhsa.signing import SigningProfile  # noqa: PLC0415
    from nhsa.signing.errors import SigningConfigError  # noqa: PLC0415

    _check_admin_token(admin_token)
    durability = _durability(sync)
    try:
        chosen = SigningProfile.parse(profile)
    except SigningConfigError as exc:
        _fail(f"--profile {profile!r}: {exc}")
    if fixtures is not None and not fixtures.is_dir():
        _fail(f"--fixtures {fixtures}: not a folder")
    return durability, str(chosen)


@app.command("serve")
def serve(
    *,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8700,
    db: Annotated[
        str,
        typer.Option(
            help="SQLite database file (created if missing, kept across restarts), or a "
            "postgresql:// URL (needed for --workers above 1)."
        ),
    ] = "nhsa-mock.db",
    workers: Annotated[
        int, typer.Option(help="Server processes sharing --db (PostgreSQL only above 1).")
    ] = 1,
    fixtures: FixturesOption = None,
    profile: ProfileOption = "none",
    dialect: DialectOption = "national",
    admin_token: Annotated[
        str | None,
        typer.Option(
            envvar=_ADMIN_ENV,
            help=f"Bearer token of the admin API (or ${_ADMIN_ENV}); printed if generated.",
        ),
    ] = None,
    allow_fault_header: Annotated[
        bool, typer.Option(help="Honour the test-only x-mock-fault request header.")
    ] = False,
    sync: SyncOption = "normal",
    group_commit: Annotated[
        bool,
        typer.Option(
            help="SQLite: requests that arrive while a COMMIT is written share the next one "
            "(each still answered only once it is durable); off, each commits alone."
        ),
    ] = True,
    platform_key: PlatformKeyOption = None,
    log_level: LogLevelOption = "warning",
) -> None:
    """Serve the mock platform over HTTP (uvicorn; one worker, or several on PostgreSQL)."""
    # The mock needs the 'mock' extra (starlette, uvicorn): imported here so that the rest
    # of the nhsa command works without it.
    with needs_extra("mock", "mock serve"):
        from nhsa._postgres import is_postgres_url, masked  # noqa: PLC0415
        from nhsa.mock.app import (  # noqa: PLC0415
            ServeError,
            ServerOptions,
            bind_socket,
            build_server,
        )
        from nhsa.mock.app._workers import serve_workers  # noqa: PLC0415
        from nhsa.mock.fixtures import FixtureError  # noqa: PLC0415
        from nhsa.mock.platform import assemble  # noqa: PLC0415
        from nhsa.mock.store import StoreError, Synchronous  # noqa: PLC0415

    durability: Synchronous
    durability, chosen = _checked_options(admin_token, sync, profile, fixtures)
    spoken = _dialect_option(dialect, profile=chosen)
    shared = is_postgres_url(db)
    shown = masked(db) if shared else db
    _check_db(db, workers, shared=shared)
    generated = admin_token is None
    token = secrets.token_urlsafe(24) if admin_token is None else admin_token
    key, key_path = _platform_key(platform_key, db, shared=shared)
    try:
        sock = bind_socket(host, port)
    except ServeError as exc:
        _fail(str(exc))
    options = ServerOptions(
        default_profile=chosen,
        default_dialect=spoken.name,
        allow_fault_header=allow_fault_header,
        admin_token=token,
        group_commit=group_commit,
    )
    try:
        platform = assemble(
            db, fixtures=fixtures, options=options, platform_key=key, synchronous=durability
        )
    except (StoreError, FixtureError, OSError) as exc:
        sock.close()
        _fail(f"cannot start: {exc}")
    if workers > 1:
        platform.close()  # it proved the database usable; each worker opens its own
    bound_host, bound_port = sock.getsockname()[:2]
    grouped = "group commit" if group_commit else "each request commits alone"
    kept_by = f"PostgreSQL, workers={workers}" if shared else f"synchronous={sync}, {grouped}"
    admin = f"{token} (generated; pass --admin-token to fix it)" if generated else "(as given)"
    _print_banner(
        f"http://{bound_host}:{bound_port}",
        database=f"{shown} ({kept_by})",
        profile=f"{chosen} (for institutions registered without one)",
        dialect=f"{spoken.name}: {spoken.title_en} (for institutions registered without one)",
        platform_key=f"{platform.core.platform_key.key_id} ({key_path})",
        fault_header="on" if allow_fault_header else "off",
        admin_token=admin,
    )
    sys.stdout.flush()
    if workers > 1:

        def build() -> Any:
            return assemble(db, fixtures=fixtures, options=options, platform_key=key)

        raise typer.Exit(serve_workers(build, sock, workers=workers, log_level=log_level))
    try:
        build_server(platform.app, log_level=log_level).run(sockets=[sock])
    finally:
        platform.close()


@app.command("transcript")
def transcript(
    tenant: Annotated[
        str, typer.Option(help="The institution (fixmedins_code) whose records to print.")
    ],
    db: Annotated[
        str, typer.Option(help="The mock's database file, or its postgresql:// URL.")
    ] = "nhsa-mock.db",
    since: Annotated[int, typer.Option(help="Only records with seq greater than this.")] = 0,
    unmasked: Annotated[
        bool, typer.Option(help="Print personal data unmasked (for the lab's own archive).")
    ] = False,
) -> None:
    """Print a tenant's transcript as JSON Lines (personal data masked by default)."""
    with needs_extra("mock", "mock transcript"):
        from nhsa._postgres import is_postgres_url, masked  # noqa: PLC0415
        from nhsa.mock.store import StoreError, open_store  # noqa: PLC0415
        from nhsa.mock.transcript import jsonl_lines, records  # noqa: PLC0415

    if not is_postgres_url(db) and not Path(db).is_file():
        _fail(f"--db {db}: no such database file")
    if since < 0:
        _fail(f"--since {since}: a sequence number is 0 or more")
    try:
        store = open_store(db)
    except StoreError as exc:
        _fail(str(exc))
    try:
        found = records(store, tenant, since)
    finally:
        store.close()
    if not found:
        where = masked(db) if is_postgres_url(db) else db
        _err().print(f"no records for tenant {tenant} after seq {since} in {where}")
    for line in jsonl_lines(found, mask=not unmasked):
        sys.stdout.buffer.write(line)
    sys.stdout.flush()


@app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(help="A visit export (the lab console's Export).")],
) -> None:
    """Re-run an exported visit against a fresh mock and say where the answers differ.

    Exit 0: every record answered alike and the visit's settlements ended the same way;
    1: something differs (printed field by field); 2: the file cannot be replayed.
    """
    with needs_extra("conformance", "mock replay"):
        from nhsa.lab import (  # noqa: PLC0415
            IGNORED,
            ReplayError,
            VisitExportError,
            read_export,
            replay,
        )

    try:
        data = file.read_bytes()
    except OSError as exc:
        fail_plainly(f"{file}: cannot read it ({exc.strerror})")
    try:
        export = read_export(data, source=str(file))
        report = replay(export)
    except (VisitExportError, ReplayError) as exc:
        fail_plainly(str(exc))
    out = Console(highlight=False, soft_wrap=True)
    parts = {"visit": 0, "context": 0}
    for step in report.steps:
        parts["visit" if step.role == "visit" else "context"] += 1
    out.print(
        f"replayed visit {report.mdtrt_id} of {report.tenant} on a fresh mock: "
        f"{parts['visit']} records of the visit, {parts['context']} it depends on",
        markup=False,
    )
    for step in report.steps:
        out.print(step.describe(), markup=False)
    out.print("ignored, as they legitimately differ between two platforms:", markup=False)
    for reason, why in IGNORED.items():
        out.print(f"  {reason} ({report.ignored.get(reason, 0)} values): {why}", markup=False)
    if report.ids:
        mapped = ", ".join(f"{old} → {new}" for old, new in report.ids.items())
        out.print(f"  ids mapped: {mapped}", markup=False)
    out.print(f"verdict of the original: {report.verdict_original}", markup=False)
    if report.same_verdict:
        out.print("verdict of the replay:   the same", markup=False)
    else:
        out.print(f"verdict of the replay:   DIFFERENT: {report.verdict_replay}", markup=False)
    differing = sum(1 for step in report.steps if not step.same)
    if report.same:
        out.print(
            f"SAME: all {len(report.steps)} records answered alike, same verdict", markup=False
        )
        return
    out.print(f"DIFFERS: {differing} of {len(report.steps)} records", markup=False)
    raise typer.Exit(1)

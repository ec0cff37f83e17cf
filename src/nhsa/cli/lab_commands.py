"""``nhsa lab``: serve the lab console beside the mock platform, and issue labs their tokens.

Example:
    $ export NHSA_MOCK_ADMIN_TOKEN=<a secret of 16+ characters>
    $ nhsa lab serve --port 8800 --db lab.db      # the console at http://127.0.0.1:8800/console/
    $ nhsa lab token lab-kunming                  # the token that signs lab-kunming in
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nhsa.cli._extras import needs_extra
from nhsa.cli.mock_commands import (
    _ADMIN_ENV,
    FixturesOption,
    HostOption,
    LogLevelOption,
    PlatformKeyOption,
    PortOption,
    ProfileOption,
    SyncOption,
    _check_admin_token,
    _check_db,
    _checked_options,
    _fail,
    _platform_key,
    _print_banner,
    fail_plainly,
)

app = typer.Typer(
    help="The lab console: run, watch and explain certification runs from a browser "
    "(the conformance extra)."
)


@app.command("serve")
def serve(
    *,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8800,
    db: Annotated[
        str,
        typer.Option(
            help="The mock's SQLite database file (created if missing), or a "
            "postgresql:// URL; runs and their reports are kept there too."
        ),
    ] = "nhsa-lab.db",
    fixtures: FixturesOption = None,
    profile: ProfileOption = "none",
    admin_token: Annotated[
        str | None,
        typer.Option(
            envvar=_ADMIN_ENV,
            help=f"The admin token (or ${_ADMIN_ENV}): the admin API's, and the console's "
            "sign-in; printed if generated.",
        ),
    ] = None,
    console_key: Annotated[
        Path | None,
        typer.Option(
            help="SM2 private key PEM that signs the reports; kept beside --db if omitted."
        ),
    ] = None,
    platform_key: PlatformKeyOption = None,
    sync: SyncOption = "normal",
    log_level: LogLevelOption = "warning",
) -> None:
    """Serve the mock platform with the lab console at /console (one process, one database)."""
    with needs_extra("conformance", "lab serve"):
        from nhsa._postgres import is_postgres_url, masked  # noqa: PLC0415
        from nhsa.lab import lab_server_app  # noqa: PLC0415
        from nhsa.mock import MockPlatform  # noqa: PLC0415
        from nhsa.mock.app import ServeError, bind_socket, build_server  # noqa: PLC0415
        from nhsa.mock.fixtures import FixtureError  # noqa: PLC0415
        from nhsa.mock.store import StoreError  # noqa: PLC0415

    durability, chosen = _checked_options(admin_token, sync, profile, fixtures)
    shared = is_postgres_url(db)
    _check_db(db, 1, shared=shared)
    token = secrets.token_urlsafe(24) if admin_token is None else admin_token
    shown_token = "(as given)" if admin_token else f"{token} (generated; pass --admin-token)"
    key, key_path = _platform_key(platform_key, db, shared=shared)
    signer, signer_path = _platform_key(console_key, db, shared=shared, name="console-key")
    try:
        sock = bind_socket(host, port)
    except ServeError as exc:
        _fail(str(exc))
    try:
        platform = MockPlatform(
            db=db, fixtures=fixtures, profile=chosen, platform_key=key,
            allow_fault_header=False, admin_token=token, synchronous=durability,
        )  # fmt: skip
    except (StoreError, FixtureError, OSError) as exc:
        sock.close()
        fail_plainly(f"cannot start: {exc}")
    bound_host, bound_port = sock.getsockname()[:2]
    url = f"http://{bound_host}:{bound_port}"
    _print_banner(
        url,
        console=f"{url}/console/ (sign in with a lab name and the admin token or a lab token)",
        database=masked(db) if shared else db,
        profile=f"{chosen} (for institutions registered without one)",
        platform_key=f"{key.key_id} ({key_path})",
        console_key=f"{signer.key_id} ({signer_path}) signs every run's report.json",
        admin_token=shown_token,
    )
    sys.stdout.flush()
    with platform:
        app_ = lab_server_app(platform, admin_token=token, key=signer, platform_url=url)
        build_server(app_, log_level=log_level).run(sockets=[sock])


@app.command("token")
def token_command(
    lab: Annotated[str, typer.Argument(help="The lab's name, as it signs in.")],
    admin_token: Annotated[
        str | None,
        typer.Option(envvar=_ADMIN_ENV, help=f"The server's admin token (or ${_ADMIN_ENV})."),
    ] = None,
) -> None:
    """Print the token that signs LAB in to the console of a server with this admin token.

    Hand it to that lab: it opens that lab's console and no other's.
    """
    with needs_extra("conformance", "lab token"):
        from nhsa.lab._auth import lab_name_problem, lab_token  # noqa: PLC0415

    if not admin_token:
        fail_plainly(f"--admin-token: give the server's admin token (or set ${_ADMIN_ENV})")
    _check_admin_token(admin_token)
    if problem := lab_name_problem(lab):
        fail_plainly(f"LAB {lab!r}: {problem}")
    Console(highlight=False).print(lab_token(admin_token, lab), markup=False)

"""The ``nhsa`` command: a thin layer over the rooms; each command group lives in its own module.

Example:
    $ nhsa spec list
    $ nhsa spec validate message.json
"""

from __future__ import annotations

from typing import Annotated

import typer

from nhsa import __version__
from nhsa.cli import (
    conformance_commands,
    demo_commands,
    keys_commands,
    mock_commands,
    spec_commands,
)

app = typer.Typer(
    name="nhsa",
    help="nhsa-kit: SDK, mock national platform and conformance suite for the NHSA interface.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(spec_commands.app, name="spec")
app.add_typer(keys_commands.app, name="keys")
app.add_typer(mock_commands.app, name="mock")
app.add_typer(conformance_commands.app, name="conformance")
app.command("demo")(demo_commands.demo)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"nhsa-kit {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """nhsa-kit command line."""


def main() -> None:
    """Console-script entry point."""
    app()

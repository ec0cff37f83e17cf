"""The ``nhsa`` command: a thin layer over the rooms; each command group lives in its own module.

``pip install nhsa-kit`` (the SDK alone) runs ``nhsa spec`` and ``nhsa keys``; ``nhsa mock``
needs the ``mock`` extra and ``nhsa conformance`` / ``nhsa demo`` / ``nhsa lab`` the
``conformance`` extra.
The conformance commands are imported only when one of them runs, so ``nhsa --help`` lists
them without the extra installed, and running one without it says which extra to install.

Example:
    $ nhsa spec list
    $ nhsa spec validate message.json
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer
from typer.core import TyperGroup

from nhsa import __version__
from nhsa.cli import demo_commands, keys_commands, lab_commands, mock_commands, spec_commands
from nhsa.cli._extras import needs_extra

if TYPE_CHECKING:  # typer ships its own copy of click; these names are only for the type checker
    from typer._click import Command, Context

_CONFORMANCE: Final = "conformance"
_CONFORMANCE_SUMMARY: Final = (
    "The conformance suite: certification stages against a HIS, reports a lab can sign "
    "(needs the conformance extra)."
)


def _conformance_group() -> Command:
    with needs_extra("conformance", _CONFORMANCE):
        from nhsa.cli import conformance_commands  # noqa: PLC0415 - the extra, on demand

    # Mounted as add_typer would have mounted it, so it reads exactly as the other groups.
    holder = typer.Typer(add_completion=False)
    holder.add_typer(conformance_commands.app, name=_CONFORMANCE)
    root = typer.main.get_command(holder)
    assert isinstance(root, TyperGroup)  # add_typer always makes a group
    return root.commands[_CONFORMANCE]


class _Root(TyperGroup):
    """The ``nhsa`` group, with ``conformance`` imported only when it is invoked."""

    def list_commands(self, ctx: Context) -> list[str]:
        """Every command, the lazy group included."""
        names = super().list_commands(ctx)
        return names if _CONFORMANCE in names else [*names, _CONFORMANCE]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """A command; for listings, a stand-in for the conformance group until it is loaded."""
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name == _CONFORMANCE:
            return TyperGroup(name=cmd_name, help=_CONFORMANCE_SUMMARY)
        return found

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        """Load the conformance group when it is the command being run."""
        if args and args[0] == _CONFORMANCE and _CONFORMANCE not in self.commands:
            self.add_command(_conformance_group(), _CONFORMANCE)
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="nhsa",
    cls=_Root,
    help="nhsa-kit: SDK, mock national platform and conformance suite for the NHSA interface.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(spec_commands.app, name="spec")
app.add_typer(keys_commands.app, name="keys")
app.add_typer(mock_commands.app, name="mock")
app.add_typer(lab_commands.app, name="lab")
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

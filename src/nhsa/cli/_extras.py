"""Commands whose room lives in an optional extra: one line saying what to install.

``pip install nhsa-kit`` is the SDK and the ``nhsa`` command (``spec``, ``keys``); the mock
platform (``nhsa-kit[mock]``: starlette, uvicorn, PyYAML) and the conformance suite
(``nhsa-kit[conformance]``: the mock plus jinja2) are extras. A command that needs one imports
its room inside :func:`needs_extra`, so a missing dependency is a one-line message naming the
extra and exit code 2, never a ``ModuleNotFoundError`` traceback.

Example:
    >>> import typer
    >>> try:
    ...     with needs_extra("mock", "mock serve"):
    ...         import nhsa_kit_absent_module  # noqa: F401
    ... except typer.Exit as stop:
    ...     stop.exit_code
    2
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal

import typer
from rich.console import Console

__all__ = ["Extra", "install_hint", "needs_extra"]

Extra = Literal["mock", "conformance"]

_OWN_PACKAGE: Final = "nhsa"


def install_hint(extra: Extra) -> str:
    """The command that installs ``extra``.

    Example:
        >>> install_hint("conformance")
        "pip install 'nhsa-kit[conformance]'"
    """
    return f"pip install 'nhsa-kit[{extra}]'"


@contextmanager
def needs_extra(extra: Extra, command: str) -> Iterator[None]:
    """Run the imports of ``nhsa COMMAND``; a third-party module missing means the extra is.

    A missing module of nhsa-kit itself is a broken installation, not a missing extra, and
    propagates unchanged.
    """
    try:
        yield
    except ModuleNotFoundError as missing:
        if missing.name is None or missing.name.split(".")[0] == _OWN_PACKAGE:
            raise
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"error: nhsa {command} needs the {extra} extra, which is not installed "
            f"(no module named {missing.name!r}): {install_hint(extra)}",
            style="red",
            markup=False,
        )
        raise typer.Exit(2) from None

"""``nhsa keys``: create SM2 key pairs and show key ids; key material is never printed.

Two owners of keys: an institution (``--fixmedins``, its 12-character code; the key signs its
messages to the platform) and a certification lab (``--lab NAME``; the key signs its
conformance reports, ``nhsa conformance sign``). The files are ``<owner>.sm2.key.pem`` and
``<owner>.sm2.pub.pem``.

Example:
    $ nhsa keys new --fixmedins H53010100001 --out keys/ --passphrase-env NHSA_KEY_PASSPHRASE
    $ nhsa keys new --lab lab          # lab.sm2.key.pem and lab.sm2.pub.pem, here
    $ nhsa keys id keys/H53010100001.sm2.pub.pem
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from nhsa.signing import Sm2PrivateKey, Sm2PublicKey
from nhsa.signing.errors import KeyMaterialError

app = typer.Typer(help="Create SM2 key pairs for message signing and show their key ids.")
_out = Console(highlight=False, markup=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

_FIXMEDINS_CODE = re.compile(r"[A-Z0-9]{12}")
_LAB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PRIVATE_FILE_MODE = 0o600
_PUBLIC_FILE_MODE = 0o644


@app.command("new")
def new(
    fixmedins: Annotated[
        str | None,
        typer.Option(
            "--fixmedins", help="For an institution: its 12-character code, e.g. H53010100001."
        ),
    ] = None,
    lab: Annotated[
        str | None,
        typer.Option(
            "--lab", help="For a certification lab signing reports: a file name, e.g. lab."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the two PEM files (default: here).")
    ] = Path(),
    passphrase_env: Annotated[
        str | None,
        typer.Option(
            "--passphrase-env",
            help="Environment variable holding a passphrase that encrypts the private key.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
) -> None:
    """Write <OWNER>.sm2.key.pem (mode 0600) and <OWNER>.sm2.pub.pem; print the key id."""
    owner, role = _owner(fixmedins, lab)
    passphrase = _passphrase(passphrase_env)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"--out {out}: cannot create the directory ({exc.strerror})")
    key = Sm2PrivateKey.generate()
    private_path = out / f"{owner}.sm2.key.pem"
    public_path = out / f"{owner}.sm2.pub.pem"
    _write(private_path, key.to_pem(passphrase), _PRIVATE_FILE_MODE, force)
    _write(public_path, key.public_key.to_pem(), _PUBLIC_FILE_MODE, force)
    _out.print(f"key id:      {key.key_id}")
    _out.print(f"{role + ':':<12} {owner}")
    _out.print(f"private key: {private_path}{' (encrypted)' if passphrase else ''}")
    _out.print(f"public key:  {public_path}")


def _owner(fixmedins: str | None, lab: str | None) -> tuple[str, str]:
    """The key's owner and role, from exactly one of ``--fixmedins`` and ``--lab``."""
    if (fixmedins is None) == (lab is None):
        _fail("give --fixmedins CODE (an institution's key) or --lab NAME (a lab's), not both")
    if fixmedins is not None:
        if not _FIXMEDINS_CODE.fullmatch(fixmedins):
            _fail(
                f"--fixmedins {fixmedins!r}: must be 12 capital letters or digits, "
                "e.g. H53010100001 (a lab's key: --lab NAME)"
            )
        return fixmedins, "institution"
    assert lab is not None  # exactly one of the two was given
    if not _LAB_NAME.fullmatch(lab):
        _fail(
            f"--lab {lab!r}: a file name of letters, digits, '.', '_' or '-' (at most 64), e.g. lab"
        )
    return lab, "lab"


@app.command("id")
def key_id(
    file: Annotated[Path, typer.Argument(help="A public or private SM2 key PEM file.")],
    passphrase_env: Annotated[
        str | None,
        typer.Option(
            "--passphrase-env", help="Environment variable holding the private key's passphrase."
        ),
    ] = None,
) -> None:
    """Print the key id of a PEM file (the id that appears in cainfo)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        _fail(f"{file}: cannot read it ({exc.strerror})")
    try:
        if b"PRIVATE KEY-----" in data:
            found = Sm2PrivateKey.from_pem(data, _passphrase(passphrase_env), source=f"file {file}")
            _out.print(found.key_id)
        else:
            _out.print(Sm2PublicKey.from_pem(data, source=f"file {file}").key_id)
    except KeyMaterialError as exc:
        _fail(str(exc))


def _passphrase(variable: str | None) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        _fail(f"--passphrase-env {variable}: the environment variable is not set or empty")
    return value


def _write(path: Path, data: bytes, mode: int, force: bool) -> None:
    if path.exists() and not force:
        _fail(f"{path} already exists; pass --force to replace it")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        # Created with its final mode, so a private key is never readable by others, not even
        # for an instant; chmod covers a file that --force replaces.
        descriptor = os.open(path, flags, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        path.chmod(mode)
    except OSError as exc:
        _fail(f"{path}: cannot write it ({exc.strerror})")


def _fail(message: str) -> NoReturn:
    _err.print(message, style="red", markup=False)
    raise typer.Exit(2)

"""``nhsa keys new`` and ``nhsa keys id``."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nhsa.cli import app
from nhsa.signing import Sm2PrivateKey, Sm2PublicKey
from nhsa.signing.errors import PassphraseError

runner = CliRunner()


def _key_id(output: str) -> str:
    found = re.search(r"key id:\s+([0-9a-f]{16})", output)
    assert found, output
    return found.group(1)


def test_new_writes_a_private_0600_and_a_public_file_and_prints_no_key(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["keys", "new", "--fixmedins", "H53010100001", "--out", str(tmp_path / "keys")]
    )
    assert result.exit_code == 0, result.output
    private = tmp_path / "keys" / "H53010100001.sm2.key.pem"
    public = tmp_path / "keys" / "H53010100001.sm2.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    key = Sm2PrivateKey.from_file(private)
    assert _key_id(result.output) == key.key_id == Sm2PublicKey.from_file(public).key_id
    assert str(private) in result.output
    assert str(public) in result.output
    for line in private.read_text().splitlines()[1:-1]:
        assert line not in result.output
    assert "BEGIN" not in result.output


def test_new_encrypts_with_a_passphrase_from_the_environment(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "keys",
            "new",
            "--fixmedins",
            "H53010100001",
            "--out",
            str(tmp_path),
            "--passphrase-env",
            "NHSA_TEST_PASSPHRASE",
        ],
        env={"NHSA_TEST_PASSPHRASE": "correct horse"},
    )
    assert result.exit_code == 0, result.output
    assert "(encrypted)" in result.output
    assert "correct horse" not in result.output
    private = tmp_path / "H53010100001.sm2.key.pem"
    with pytest.raises(PassphraseError):
        Sm2PrivateKey.from_file(private)
    assert Sm2PrivateKey.from_file(private, "correct horse").key_id == _key_id(result.output)
    shown = runner.invoke(
        app,
        ["keys", "id", str(private), "--passphrase-env", "NHSA_TEST_PASSPHRASE"],
        env={"NHSA_TEST_PASSPHRASE": "correct horse"},
    )
    assert shown.stdout.strip() == _key_id(result.output)


def test_new_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    arguments = ["keys", "new", "--fixmedins", "H53010100001", "--out", str(tmp_path)]
    first = runner.invoke(app, arguments)
    second = runner.invoke(app, arguments)
    assert second.exit_code == 2
    assert "already exists; pass --force" in second.output
    third = runner.invoke(app, [*arguments, "--force"])
    assert third.exit_code == 0
    assert _key_id(third.output) != _key_id(first.output)
    assert stat.S_IMODE((tmp_path / "H53010100001.sm2.key.pem").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("arguments", "env", "message"),
    [
        (["--fixmedins", "h5301"], {}, "must be 12 capital letters or digits"),
        (
            ["--fixmedins", "H53010100001", "--passphrase-env", "NHSA_UNSET_VAR"],
            {},
            "NHSA_UNSET_VAR: the environment variable is not set or empty",
        ),
    ],
)
def test_new_names_bad_input(
    tmp_path: Path, arguments: list[str], env: dict[str, str], message: str
) -> None:
    result = runner.invoke(app, ["keys", "new", *arguments, "--out", str(tmp_path)], env=env)
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_id_names_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("hello")
    result = runner.invoke(app, ["keys", "id", str(tmp_path / "junk.pem")])
    assert result.exit_code == 2
    assert "no PEM block" in result.output
    missing = runner.invoke(app, ["keys", "id", str(tmp_path / "missing.pem")])
    assert missing.exit_code == 2
    assert "cannot read it" in missing.output


def test_a_lab_key_is_named_by_the_lab_and_signs_what_it_verifies(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "new", "--lab", "lab", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    private = Sm2PrivateKey.from_file(tmp_path / "lab.sm2.key.pem")
    public = Sm2PublicKey.from_file(tmp_path / "lab.sm2.pub.pem")
    assert private.public_key.key_id == public.key_id
    assert f"key id:      {public.key_id}" in result.stdout
    assert "lab:         lab" in result.stdout
    assert stat.S_IMODE((tmp_path / "lab.sm2.key.pem").stat().st_mode) == 0o600
    assert public.verify(
        private.sign(b"report", b"1234567812345678"), b"report", b"1234567812345678"
    )


def test_a_lab_key_lands_in_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["keys", "new", "--lab", "lab"]).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.sm2.key.pem", "lab.sm2.pub.pem"]


def test_an_institution_key_still_needs_a_12_character_code(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["keys", "new", "--fixmedins", "H53010100001", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "H53010100001.sm2.key.pem").is_file()
    bad = runner.invoke(app, ["keys", "new", "--fixmedins", "lab", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "12 capital letters or digits" in bad.stderr
    assert "--lab NAME" in bad.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give --fixmedins CODE (an institution's key) or --lab NAME"),
        (["--lab", "lab", "--fixmedins", "H53010100001"], "not both"),
        (["--lab", "../etc/lab"], "--lab '../etc/lab': a file name"),
        (["--lab", ""], "--lab '': a file name"),
    ],
)
def test_a_key_needs_exactly_one_well_formed_owner(
    arguments: list[str], message: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["keys", "new", *arguments, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []

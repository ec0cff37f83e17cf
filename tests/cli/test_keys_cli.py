"""``nhsa keys new``: an institution's key (``--fixmedins``) and a lab's (``--lab``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nhsa.cli import app
from nhsa.signing import Sm2PrivateKey, Sm2PublicKey

runner = CliRunner()


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

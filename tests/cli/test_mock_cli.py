"""``nhsa mock serve`` refuses an admin token nobody could use, before it starts anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nhsa.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("", "--admin-token is empty (is $NHSA_MOCK_ADMIN_TOKEN set?)"),
        ("   ", "--admin-token is empty"),
        ("secret", "--admin-token is 6 characters long"),
        ("a token with spaces in it", "--admin-token contains white space"),
    ],
)
def test_an_unusable_admin_token_is_refused_in_one_line(
    token: str, problem: str, tmp_path: Path
) -> None:
    db = tmp_path / "mock.db"
    result = runner.invoke(
        app, ["mock", "serve", "--port", "0", "--db", str(db), "--admin-token", token]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert problem in lines[0]
    assert "at least 16 characters" in lines[0]
    assert list(tmp_path.iterdir()) == []  # no database, no platform key: nothing started


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--dialect", "kunming"], "--dialect 'kunming': use one of national, guangdong"),
        (
            ["--dialect", "sichuan", "--profile", "tif"],
            "--dialect sichuan: the sichuan platform has no gateway",
        ),
    ],
)
def test_a_dialect_that_cannot_be_served_is_refused_in_one_line(
    options: list[str], problem: str, tmp_path: Path
) -> None:
    db = tmp_path / "mock.db"
    token = "a-long-enough-admin-token"
    result = runner.invoke(
        app, ["mock", "serve", "--port", "0", "--db", str(db), "--admin-token", token, *options]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert problem in lines[0]
    assert list(tmp_path.iterdir()) == []

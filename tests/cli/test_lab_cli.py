"""``nhsa lab serve`` refuses bad options in one line; ``nhsa lab token`` prints a lab's token."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nhsa.cli import app
from nhsa.lab import lab_token
from nhsa.mock.app import bind_socket

runner = CliRunner()
TOKEN = "lab-cli-tests-admin-token-01"


def test_bad_serve_options_are_named(tmp_path: Path) -> None:
    taken = bind_socket("127.0.0.1", 0)
    try:
        busy = str(taken.getsockname()[1])
        cases = [
            (["--port", busy, "--db", str(tmp_path / "a.db")], f"--port {busy}"),
            (["--port", "0", "--db", str(tmp_path)], "--db"),
            (["--port", "0", "--fixtures", str(tmp_path / "missing")], "--fixtures"),
            (["--port", "0", "--profile", "rsa"], "--profile"),
            (["--port", "0", "--admin-token", "short"], "--admin-token"),
            (["--port", "0", "--db", str(tmp_path / "b.db"),
              "--console-key", str(tmp_path / "missing.pem")], "--console-key"),
        ]  # fmt: skip
        for options, named in cases:
            result = runner.invoke(
                app, ["lab", "serve", *options], env={"NHSA_MOCK_ADMIN_TOKEN": TOKEN}
            )
            assert result.exit_code == 2, (options, result.output)
            assert named in result.output, (options, result.output)
            assert "Traceback" not in result.output
    finally:
        taken.close()


def test_token_prints_the_labs_own_token() -> None:
    result = runner.invoke(app, ["lab", "token", "lab-km"], env={"NHSA_MOCK_ADMIN_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == lab_token(TOKEN, "lab-km")
    named = runner.invoke(app, ["lab", "token", "lab km"], env={"NHSA_MOCK_ADMIN_TOKEN": TOKEN})
    assert named.exit_code == 2
    assert "LAB 'lab km'" in named.output
    missing = runner.invoke(app, ["lab", "token", "lab-km"], env={"NHSA_MOCK_ADMIN_TOKEN": ""})
    assert missing.exit_code == 2
    assert "--admin-token" in missing.output

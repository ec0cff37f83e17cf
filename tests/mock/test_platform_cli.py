"""``nhsa mock serve`` refuses bad options clearly; ``nhsa mock transcript`` prints JSONL."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
from typer.testing import CliRunner

from nhsa.cli import app
from nhsa.mock import MockPlatform
from nhsa.mock.app import bind_socket
from tests.mock.test_app_his import KUNMING, ZHANG, SyntheticHis

runner = CliRunner()


def test_busy_port_is_named(tmp_path: Path) -> None:
    taken = bind_socket("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        result = runner.invoke(
            app, ["mock", "serve", "--port", str(port), "--db", str(tmp_path / "m.db")]
        )
    finally:
        taken.close()
    assert result.exit_code == 2
    assert f"--port {port}" in result.output
    assert "in use" in result.output


def test_bad_options_are_named(tmp_path: Path) -> None:
    cases = [
        (["--db", str(tmp_path)], "--db"),
        (["--fixtures", str(tmp_path / "missing")], "--fixtures"),
        (["--profile", "rsa"], "--profile"),
        (["--sync", "sometimes"], "--sync"),
    ]
    for options, named in cases:
        result = runner.invoke(app, ["mock", "serve", "--port", "0", *options])
        assert result.exit_code == 2, result.output
        assert named in result.output
        assert "Traceback" not in result.output


def test_transcript_prints_masked_jsonl(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    with MockPlatform(db=db) as mock:
        his = SyntheticHis(httpx.Client(transport=mock.transport, base_url=mock.base_url))
        his.sign_in()
        his.register()
    masked = runner.invoke(app, ["mock", "transcript", "--tenant", KUNMING, "--db", str(db)])
    assert masked.exit_code == 0, masked.output
    records = [orjson.loads(line) for line in masked.stdout.splitlines()]
    assert [r["infno"] for r in records] == ["9001", "1101", "2201"]
    assert ZHANG.certno not in masked.stdout
    since = runner.invoke(
        app,
        [
            "mock",
            "transcript",
            "--tenant",
            KUNMING,
            "--db",
            str(db),
            "--since",
            str(records[1]["seq"]),
            "--unmasked",
        ],
    )
    assert ZHANG.certno in since.stdout
    assert [orjson.loads(line)["infno"] for line in since.stdout.splitlines()] == ["2201"]
    missing = runner.invoke(
        app, ["mock", "transcript", "--tenant", KUNMING, "--db", str(tmp_path / "none.db")]
    )
    assert missing.exit_code == 2
    assert "--db" in missing.output

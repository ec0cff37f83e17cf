"""The ``nhsa`` command: version, spec list/show/validate (demo: tests/cli/test_demo.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nhsa import __version__
from nhsa.cli import app
from tests.conftest import all_examples

runner = CliRunner()


def _write(tmp_path: Path, name: str, value: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
    return path


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"nhsa-kit {__version__}"


def test_list_names_every_transaction(spec_contract: Any) -> None:
    result = runner.invoke(app, ["spec", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for infno in spec_contract.transactions:
        assert infno in result.stdout


def test_show_prints_fields_and_metadata() -> None:
    result = runner.invoke(app, ["spec", "show", "2207"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "门诊结算" in result.stdout
    assert "reversible_by_2601=True" in result.stdout
    assert "data.medfee_sumamt" in result.stdout
    assert "setldetail[].fund_pay_type" in result.stdout


def test_show_unknown_transaction_exits_1() -> None:
    result = runner.invoke(app, ["spec", "show", "0000"])
    assert result.exit_code == 1
    assert "unknown transaction '0000'" in result.stderr


@pytest.mark.parametrize(("infno", "index", "example"), all_examples(), ids=lambda v: str(v)[:8])
def test_validate_accepts_every_bundled_example(
    tmp_path: Path, infno: str, index: int, example: Any
) -> None:
    request = _write(tmp_path, "request.json", dict(example.request))
    response = _write(tmp_path, "response.json", dict(example.response))
    pair = _write(
        tmp_path,
        "pair.json",
        {"request": dict(example.request), "response": dict(example.response)},
    )
    for args in (
        [str(request)],
        [str(response), "--infno", infno],
        [str(pair)],
    ):
        result = runner.invoke(app, ["spec", "validate", *args])
        assert result.exit_code == 0, result.stderr
        assert "valid" in result.stdout


@pytest.mark.parametrize(("infno", "index", "example"), all_examples(), ids=lambda v: str(v)[:8])
def test_validate_rejects_broken_copies(
    tmp_path: Path, infno: str, index: int, example: Any
) -> None:
    request = json.loads(json.dumps(dict(example.request)))
    request["opter_type"] = "9"
    request.pop("inf_time")
    request["msgid"] = request["msgid"] + "0"
    result = runner.invoke(app, ["spec", "validate", str(_write(tmp_path, "bad.json", request))])
    assert result.exit_code == 1
    assert "/opter_type: [enum]" in result.stderr
    assert "/inf_time: [required]" in result.stderr
    assert "/msgid: [maxLength]" in result.stderr
    response = json.loads(json.dumps(dict(example.response)))
    response["infcode"] = "zero"
    result = runner.invoke(
        app,
        [
            "spec",
            "validate",
            str(_write(tmp_path, "bad-response.json", response)),
            "--infno",
            infno,
        ],
    )
    assert result.exit_code == 1
    assert "/infcode" in result.stderr


def test_validate_malformed_json_exits_1_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"infno": "2207",', "utf-8")
    result = runner.invoke(app, ["spec", "validate", str(path)])
    assert result.exit_code == 1
    assert "[json] malformed JSON at line 1" in result.stderr
    assert "Traceback" not in result.output


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["spec", "validate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_validate_unknown_infno_option_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "r.json", {"infcode": 0, "output": {}})
    result = runner.invoke(app, ["spec", "validate", str(path), "--infno", "0000"])
    assert result.exit_code == 1
    assert "unknown transaction '0000'" in result.stderr

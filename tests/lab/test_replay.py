"""Problem coordination: a failed settlement exported from the console, sent as one file, and
replayed by someone else — another process, another folder, no access to the lab's database —
reaches the same verdict; a changed answer is named field by field; a broken file is one line."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nhsa.cli import app
from nhsa.conformance._transcript import parse_records
from nhsa.lab import VisitExportError, encode_export, export_visit, read_export, replay
from nhsa.mock import MockPlatform
from nhsa.mock.store import LabInstitution
from tests.lab.conftest import ADMIN_TOKEN, LabServer, serve

NHSA = Path(sys.executable).with_name("nhsa")
runner = CliRunner()


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A lab server on which a lab ran the lab stage from the console (once for the module)."""
    folder = tmp_path_factory.mktemp("replay-lab")
    with MockPlatform(db=folder / "lab.db", admin_token=ADMIN_TOKEN) as platform:
        for server in serve(platform):
            client = server.client()
            client.sign_in("lab-km", ADMIN_TOKEN)
            client.follow(client.start_run(["lab"]))
            yield server


def _export(server: LabServer, scenario: str, tmp_path: Path) -> Path:
    """Download, from the console, the visit of ``scenario``."""
    client = server.client()
    client.sign_in("lab-km", ADMIN_TOKEN)
    with server.platform.store.snapshot() as tx:
        code = next(i.fixmedins_code for i in tx.find(LabInstitution) if i.scenario == scenario)
    page = client.get(f"/console/institutions/{code}").text
    visit = re.search(r'class="visit-link" href="([^"]+)"', page)
    assert visit is not None
    client.get(visit.group(1))
    export = client.get(f"{visit.group(1)}/export")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    sent = tmp_path / "sent" / "visit.json"
    sent.parent.mkdir(exist_ok=True)
    sent.write_bytes(export.content)
    return sent


def _replay_elsewhere(file: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """``nhsa mock replay FILE`` as the insured place runs it: its own folder, no lab env."""
    folder.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHSA_")}
    return subprocess.run(
        [str(NHSA), "mock", "replay", str(file)],
        capture_output=True, text=True, cwd=folder, env=env | {"COLUMNS": "200"},
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_a_failed_settlement_is_replayed_elsewhere_with_the_same_verdict(
    ran: LabServer, tmp_path: Path
) -> None:
    sent = _export(ran, "lab/error-answers", tmp_path)
    document = json.loads(sent.read_text("utf-8"))
    assert document["format"] == "nhsa-visit-export"
    assert "refused (infcode -1 (business-error fault))" in document["visit"]["verdict"]
    assert {item["role"] for item in document["records"]} >= {"visit", "sign-in"}
    assert "persons.yaml" in document["fixtures"]["files"]

    done = _replay_elsewhere(sent, tmp_path / "insured-place")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "verdict of the replay:   the same" in done.stdout
    assert "SAME: all" in done.stdout
    original = next(
        line for line in done.stdout.splitlines() if line.startswith("verdict of the original")
    )
    assert "refused (infcode -1 (business-error fault))" in original
    for reason in ("platform ids", "times", "signatures", "inf_refmsgid"):
        assert f"  {reason} (" in done.stdout


def _settle_record(document: dict[str, Any]) -> dict[str, Any]:
    return next(
        item["record"] for item in document["records"]
        if item["record"]["infno"] == "2207" and item["record"]["state_changed"]
    )  # fmt: skip


@pytest.mark.slow
def test_a_changed_answer_is_named_field_by_field(ran: LabServer, tmp_path: Path) -> None:
    sent = _export(ran, "lab/error-answers", tmp_path)
    document = json.loads(sent.read_text("utf-8"), parse_float=Decimal)
    settled = _settle_record(document)
    setlinfo = settled["response"]["output"]["setlinfo"]
    setlinfo["fund_pay_sumamt"] = Decimal(str(setlinfo["fund_pay_sumamt"])) + Decimal("1.00")
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(encode_export(document))

    done = _replay_elsewhere(tampered, tmp_path / "insured-place")
    assert done.returncode == 1, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if "DIFFERS:" in line and "2207" in line)
    assert "response.output.setlinfo.fund_pay_sumamt" in line
    assert "DIFFERS: 1 of" in done.stdout

    report = replay(read_export(tampered.read_bytes()))
    [step] = [s for s in report.steps if not s.same]
    [difference] = step.differences
    assert difference.path == "response.output.setlinfo.fund_pay_sumamt"
    assert Decimal(str(difference.original)) - Decimal(str(difference.replay)) == Decimal("1.00")
    assert report.same_verdict  # the settlement still stood on both platforms


@pytest.mark.slow
def test_every_visit_and_stay_of_the_lab_stage_replays_alike(
    ran: LabServer, tmp_path: Path
) -> None:
    with ran.platform.store.snapshot() as tx:
        codes = [(i.fixmedins_code, i.scenario) for i in tx.find(LabInstitution)]
    verdicts: dict[str, str] = {}
    for code, scenario in codes:
        records = parse_records(ran.platform.transcript(code))
        opened = {r.mdtrt_id for r in records if r.infno in ("2201", "2401") and r.mdtrt_id}
        for mdtrt_id in sorted(opened):
            document = export_visit(ran.platform, code, mdtrt_id, exported_by="lab-km")
            report = replay(read_export(encode_export(document)))
            assert report.same, (scenario, [s.describe() for s in report.steps if not s.same])
            verdicts[scenario] = report.verdict_original
    # the stay's lost settlement, reversed, then settled again: its verdict tells both 2304s
    lost, again = verdicts["lab/inpatient-unknown-settlement"].splitlines()
    assert re.fullmatch(r"2304 \S+: booked by the platform, .+; reversed by 2601 \S+", lost)
    assert re.fullmatch(r"2304 \S+: settled", again)


def _valid(ran: LabServer, tmp_path: Path) -> dict[str, Any]:
    return json.loads(_export(ran, "lab/error-answers", tmp_path).read_text("utf-8"))


@pytest.mark.slow
def test_a_malformed_file_is_one_line_and_exit_2(ran: LabServer, tmp_path: Path) -> None:
    valid = _valid(ran, tmp_path)
    escaping = copy.deepcopy(valid)
    escaping["fixtures"]["files"]["../../evil.yaml"] = "persons: []"
    future = copy.deepcopy(valid) | {"schema_version": "2.0"}
    no_records = copy.deepcopy(valid) | {"records": []}
    broken_record = copy.deepcopy(valid)
    del broken_record["records"][0]["record"]["infcode"]
    bad_fixture = copy.deepcopy(valid)
    bad_fixture["fixtures"]["files"]["persons.yaml"] = "persons: [{psn_no: 1}]"
    cases = {
        "not-json.json": (b"{not json", "not a JSON document"),
        "array.json": (b"[]", "a visit export is a JSON object"),
        "escaping.json": (json.dumps(escaping).encode(), "/fixtures/files"),
        "future.json": (json.dumps(future).encode(), "schema_version 2.0"),
        "empty.json": (json.dumps(no_records).encode(), "/records"),
        "record.json": (json.dumps(broken_record).encode(), "/records/0/record"),
        "fixture.json": (json.dumps(bad_fixture).encode(), "fixture files do not load"),
    }
    for name, (data, named) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        done = runner.invoke(app, ["mock", "replay", str(path)])
        assert done.exit_code == 2, (name, done.output)
        assert named in done.output, (name, done.output)
        assert done.output.count("\n") == 1, (name, done.output)
        assert "Traceback" not in done.output
        assert not (tmp_path / "evil.yaml").exists()
    missing = _replay_elsewhere(tmp_path / "nowhere.json", tmp_path / "insured-place")
    assert missing.returncode == 2
    assert "cannot read it" in missing.stderr
    assert missing.stderr.count("\n") == 1


def test_bytes_that_are_not_utf8_are_not_an_export() -> None:
    with pytest.raises(VisitExportError, match="not a JSON document"):
        read_export(b"\xff\xfe")

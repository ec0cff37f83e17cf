"""The console over HTTP: signing in, a whole run from the start form to its signed reports,
faults armed and cleared, and every kind of bad input answered on the page with nothing
half-done in the database."""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

import orjson
import pytest

from nhsa.conformance._signature import verify_report
from nhsa.lab import lab_token
from nhsa.mock.store import LabInstitution, LabReport, LabRun
from nhsa.signing import Sm2PublicKey
from tests.lab.conftest import ADMIN_TOKEN, LAB_SCENARIOS, LabClient, LabServer


def _rows(server: LabServer) -> dict[str, int]:
    with server.platform.store.snapshot() as tx:
        return {
            "runs": len(tx.find(LabRun)),
            "reports": len(tx.find(LabReport)),
            "institutions": len(tx.find(LabInstitution)),
        }


def _signed_in(server: LabServer, lab: str = "lab-km") -> LabClient:
    client = server.client()
    assert client.sign_in(lab, ADMIN_TOKEN).url.path == "/console/"
    return client


def test_a_wrong_token_is_told_on_the_page_and_opens_no_session(lab_server: LabServer) -> None:
    client = lab_server.client()
    refused = client.sign_in("lab-km", "not-the-token")
    assert refused.status_code == 401
    assert "Wrong token" in refused.text
    assert "Traceback" not in refused.text
    assert client.get("/console/").url.path == "/console/login"  # still signed out
    named = client.sign_in("lab km!", ADMIN_TOKEN)
    assert named.status_code == 400
    assert "Lab name" in named.text
    # another lab's own token does not open this lab
    assert client.sign_in("lab-gz", lab_token(ADMIN_TOKEN, "lab-km")).status_code == 401


def test_the_session_cookie_is_http_only_and_same_site_strict(lab_server: LabServer) -> None:
    client = lab_server.client()
    client.get("/console/login")
    response = client.http.post(
        "/console/login",
        data={"csrf": client.csrf(), "lab": "lab-km", "token": ADMIN_TOKEN},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie
    assert "content-security-policy" in response.headers


def test_a_run_in_a_province_dialect_is_judged_and_kept_in_that_dialect(
    lab_server: LabServer,
) -> None:
    client = _signed_in(lab_server)
    assert "<option >jilin</option>" in client.get("/console/").text
    run_id = client.start_run(["lab"], dialect="jilin")
    events = client.follow(run_id)
    assert events[-1]["state"] == "finished"
    with lab_server.platform.store.snapshot() as tx:
        row = tx.get(LabRun, "lab-km", run_id)
        report = next(r for r in tx.find(LabReport, lab="lab-km", run_id=run_id)
                      if r.name == "report.json")  # fmt: skip
    assert row is not None
    assert row.dialect == "jilin"
    assert row.result == "pass"
    assert orjson.loads(report.content)["run"]["dialect"] == "jilin"


def test_sign_in_needs_the_forms_own_token(lab_server: LabServer) -> None:
    client = lab_server.client()
    client.get("/console/login")
    forged = client.http.post(
        "/console/login", data={"csrf": "forged", "lab": "lab-km", "token": ADMIN_TOKEN}
    )
    assert forged.status_code == 400
    assert "expired" in forged.text


def test_a_whole_run_from_the_page_ends_with_signed_reports_in_the_database(
    lab_server_on_either: LabServer, tmp_path: Path
) -> None:
    server = lab_server_on_either
    client = _signed_in(server)
    run_id = client.start_run(["lab"])
    events = client.follow(run_id)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "scenario"
    assert kinds[-1] == "end"
    assert events[-1]["state"] == "finished"
    steps = [e for e in events if e["type"] == "step"]
    assert steps
    assert all(e["institution"] for e in steps if e["step"] != "configure")
    assert sum(1 for k in kinds if k == "scenario-done") == LAB_SCENARIOS

    page = client.get(f"/console/runs/{run_id}")
    assert 'id="run-result" class="result-pass" data-result="pass"' in page.text
    assert 'data-requirement="HIS-REV-001" data-result="pass"' in page.text
    with server.platform.store.snapshot() as tx:
        row = tx.get(LabRun, "lab-km", run_id)
        names = sorted(r.name for r in tx.find(LabReport, lab="lab-km", run_id=run_id))
    assert row is not None
    assert row.result == "pass"
    assert row.stages == ("lab",)
    assert names == ["junit.xml", "report.html", "report.json", "report.json.sig"]

    report = client.get(f"/console/runs/{run_id}/files/report.json")
    assert "attachment" in report.headers["content-disposition"]
    signature = client.get(f"/console/runs/{run_id}/files/report.json.sig")
    pem = client.get("/console/console.sm2.pub.pem")
    (tmp_path / "report.json").write_bytes(report.content)
    (tmp_path / "report.json.sig").write_bytes(signature.content)
    verified = verify_report(tmp_path / "report.json", Sm2PublicKey.from_pem(pem.content))
    assert verified.key_id == server.key.key_id
    assert verified.sha256 == hashlib.sha256(report.content).hexdigest()
    assert orjson.loads(report.content)["run"]["id"] == run_id
    assert "signed" in client.get(f"/console/runs/{run_id}/files/report.html").text
    assert "<testsuites" in client.get(f"/console/runs/{run_id}/files/junit.xml").text
    home = client.get("/console/")
    assert f'data-run="{run_id}" data-result="pass"' in home.text


def test_institution_and_visit_pages_show_the_transcript_masked(lab_server: LabServer) -> None:
    client = _signed_in(lab_server)
    run_id = client.start_run(["lab"])
    client.follow(run_id)
    with lab_server.platform.store.snapshot() as tx:
        code = next(
            i.fixmedins_code for i in tx.find(LabInstitution) if i.scenario == "lab/error-answers"
        )
    page = client.get(f"/console/institutions/{code}")
    assert page.status_code == 200
    for section in (
        "visits",
        "ledger",
        "day-totals",
        "filings",
        "tokens",
        "downtime",
        "transcript",
    ):
        assert f'id="{section}"' in page.text, section
    visit = re.search(r'class="visit-link" href="([^"]+)"', page.text)
    assert visit is not None
    shown = client.get(visit.group(1))
    assert "refused (infcode -1 (business-error fault))" in shown.text
    assert shown.text.count('class="message role-') >= 7
    assert "signature <span" in shown.text
    certno = "530103195807020020"  # the scenario's patient, P53010000000002
    assert certno not in shown.text
    assert "**************0020" in shown.text


def test_a_fault_is_armed_and_cleared_from_the_page(lab_server: LabServer) -> None:
    client = _signed_in(lab_server)
    client.follow(client.start_run(["lab"]))
    with lab_server.platform.store.snapshot() as tx:
        code = tx.find(LabInstitution)[0].fixmedins_code
    client.get(f"/console/institutions/{code}")
    armed = client.post(
        f"/console/institutions/{code}/faults",
        {"kind": "commit-then-drop", "infno": "2207", "times": "2", "mode": "reset"},
    )
    assert armed.status_code == 200
    assert 'data-kind="commit-then-drop"' in armed.text
    [fault] = lab_server.platform.faults(code)
    assert (fault["kind"], fault["remaining"], fault["mode"]) == ("commit-then-drop", 2, "reset")
    cleared = client.post(f"/console/institutions/{code}/faults/clear", {})
    assert 'id="no-faults"' in cleared.text
    assert lab_server.platform.faults(code) == []


def test_a_bad_fault_is_named_on_the_page_and_nothing_is_armed(lab_server: LabServer) -> None:
    client = _signed_in(lab_server)
    client.follow(client.start_run(["lab"]))
    with lab_server.platform.store.snapshot() as tx:
        code = tx.find(LabInstitution)[0].fixmedins_code
    client.get(f"/console/institutions/{code}")
    for form, named in [
        ({"kind": "latency"}, "ms"),
        ({"kind": "reset", "times": "two"}, "times"),
        ({"kind": "meltdown"}, "kind"),
        ({"kind": "http-error", "status": "404"}, "status"),
    ]:
        refused = client.post(f"/console/institutions/{code}/faults", form)
        assert refused.status_code == 400, form
        assert "The fault was not armed" in refused.text
        assert named in refused.text
        assert "Traceback" not in refused.text
    assert lab_server.platform.faults(code) == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_run_against_an_unreachable_driver_says_so_and_keeps_nothing(
    lab_server: LabServer,
) -> None:
    client = _signed_in(lab_server)
    url = f"http://127.0.0.1:{_closed_port()}"
    run_id = client.start_run(["lab"], driver=url, step_timeout="3")
    events = client.follow(run_id)
    assert events[-1]["state"] == "aborted"
    page = client.get(f"/console/runs/{run_id}")
    assert 'data-state="aborted"' in page.text
    assert url in page.text
    assert "Traceback" not in page.text
    assert _rows(lab_server) == {"runs": 0, "reports": 0, "institutions": 0}


def test_bad_start_forms_are_named_and_start_nothing(lab_server: LabServer) -> None:
    client = _signed_in(lab_server)
    for form, named in [
        ({"stages": [], "driver": "sdk"}, "stages"),
        ({"stages": ["moon"], "driver": "sdk"}, "stages"),
        ({"stages": ["lab"], "driver": "ftp://his"}, "driver"),
        ({"stages": ["lab"], "driver": "sdk", "step_timeout": "-1"}, "step_timeout"),
        ({"stages": ["lab"], "driver": "sdk", "dialect": "atlantis"}, "dialect"),
    ]:
        client.get("/console/")
        refused = client.post("/console/runs", form)
        assert refused.status_code == 400, form
        assert f"{named}:" in refused.text, form
        assert 'id="live-runs"' not in refused.text
    assert _rows(lab_server) == {"runs": 0, "reports": 0, "institutions": 0}


def test_a_form_without_the_sessions_token_is_refused(lab_server: LabServer) -> None:
    client = _signed_in(lab_server)
    other = _signed_in(lab_server, "lab-km")  # same lab, another session
    other.get("/console/")
    refused = client.http.post(
        "/console/runs", data={"csrf": other.csrf(), "stages": "lab", "driver": "sdk"}
    )
    assert refused.status_code == 403
    assert client.http.post("/console/runs", data={"stages": "lab"}).status_code == 403
    assert _rows(lab_server)["institutions"] == 0
    assert 'id="live-runs"' not in client.get("/console/").text


@pytest.mark.parametrize(
    "path",
    ["/console/", "/console/runs/20260101T000000-abcdef", "/console/institutions/H53010100001"],
)
def test_pages_need_a_session(lab_server: LabServer, path: str) -> None:
    response = lab_server.client().http.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


def test_what_does_not_exist_is_404(lab_server: LabServer) -> None:
    client = _signed_in(lab_server)
    assert client.get("/console/runs/20260101T000000-abcdef").status_code == 404
    assert client.get("/console/institutions/H53010100001").status_code == 404
    assert client.get("/console/static/../../etc/passwd").status_code == 404
    assert client.get("/console/static/console.js").status_code == 200


def test_the_platform_still_answers_beside_the_console(lab_server: LabServer) -> None:
    client = lab_server.client()
    assert client.get("/admin/health").json()["status"] == "ok"
    assert client.get("/public/ping").status_code == 200

"""Several labs on one server never see each other: a session is bound to its lab, a lab to the
institutions its runs registered; anything else is 404, as for what does not exist."""

from __future__ import annotations

import pytest

from nhsa.conformance._mock_handle import InstitutionTakenError
from nhsa.lab import lab_token
from nhsa.lab._records import LabBooks
from nhsa.mock.store import LabInstitution
from tests.lab.conftest import ADMIN_TOKEN, LAB_SCENARIOS, LabServer


def _codes(server: LabServer, lab: str) -> list[str]:
    with server.platform.store.snapshot() as tx:
        return [i.fixmedins_code for i in tx.find(LabInstitution, lab=lab)]


def test_two_labs_on_one_server_see_only_their_own(lab_server: LabServer) -> None:
    kunming, guangzhou = lab_server.client(), lab_server.client()
    assert kunming.sign_in("lab-km", ADMIN_TOKEN).url.path == "/console/"
    assert guangzhou.sign_in("lab-gz", lab_token(ADMIN_TOKEN, "lab-gz")).url.path == "/console/"
    km_run, gz_run = kunming.start_run(["lab"]), guangzhou.start_run(["lab"])
    kunming.follow(km_run)
    guangzhou.follow(gz_run)
    km_codes, gz_codes = _codes(lab_server, "lab-km"), _codes(lab_server, "lab-gz")
    assert len(km_codes) == len(gz_codes) == LAB_SCENARIOS
    assert not set(km_codes) & set(gz_codes)

    home = guangzhou.get("/console/").text
    assert gz_run in home
    assert km_run not in home
    assert not any(code in home for code in km_codes)
    assert all(code in home for code in gz_codes)

    theirs = km_codes[0]
    page = kunming.get(f"/console/institutions/{theirs}")
    visit = page.text.split('class="visit-link" href="')[1].split('"')[0]
    for path in (
        f"/console/runs/{km_run}",
        f"/console/runs/{km_run}/events",
        f"/console/runs/{km_run}/files/report.json",
        f"/console/institutions/{theirs}",
        visit,
        f"{visit}/export",
    ):
        refused = guangzhou.get(path)
        assert refused.status_code == 404, path
        assert theirs not in refused.text or "not one of lab lab-gz" in refused.text

    guangzhou.get("/console/")
    armed = guangzhou.post(f"/console/institutions/{theirs}/faults", {"kind": "reset"})
    assert armed.status_code == 404
    assert lab_server.platform.faults(theirs) == []
    kunming.get(f"/console/institutions/{theirs}")
    assert (
        kunming.post(f"/console/institutions/{theirs}/faults", {"kind": "reset"}).status_code == 200
    )
    guangzhou.get("/console/")
    cleared = guangzhou.post(f"/console/institutions/{theirs}/faults/clear", {})
    assert cleared.status_code == 404
    assert len(lab_server.platform.faults(theirs)) == 1


def test_a_lab_token_opens_only_its_own_lab(lab_server: LabServer) -> None:
    client = lab_server.client()
    assert client.sign_in("lab-gz", lab_token(ADMIN_TOKEN, "lab-km")).status_code == 401
    assert client.sign_in("lab-km", lab_token(ADMIN_TOKEN, "lab-km")).url.path == "/console/"
    assert 'id="lab-name">lab <strong>lab-km</strong>' in client.page


def test_a_code_claimed_by_one_lab_is_refused_to_another(lab_server: LabServer) -> None:
    books = LabBooks(lab_server.platform)
    books.claim("H53010199999", lab="lab-km", run_id="r1", scenario="lab/x")
    with pytest.raises(InstitutionTakenError):
        books.claim("H53010199999", lab="lab-gz", run_id="r2", scenario="lab/x")
    assert books.owns("lab-km", "H53010199999")
    assert not books.owns("lab-gz", "H53010199999")

"""The public services' data side: institutions, fixtures per tenant, filings, tokens,
downtime notices and ledger statistics."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nhsa.mock.engine import PlatformServices, ServiceError
from nhsa.mock.fixtures import FixtureError, bundled_fixture_dir
from nhsa.mock.store import Settlement

from .conftest import CLASS_A_DRUG, START, Desk

LOCAL = "P53010000000001"
RETIREE_AT_HOME = "P53010000000002"  # 李秀兰, Kunming retiree
BEIJING_RETIREE = "P11010000000011"  # filed retiree at 530100
SHENZHEN_RESIDENT = "P44030000000010"


def test_a_registered_institution_is_a_tenant(desk: Desk, services: PlatformServices) -> None:
    services.register_institution(
        "H53010199001",
        "实验室测试医院",
        "530100",
        "3",
        ["outpatient"],
        key_id="k1",
        paasid="lab",
        paas_token="secret",
        signing_profile="tif",
    )
    lab = Desk(desk.engine, desk.store, tenant="H53010199001")
    lab.sign_in()
    charge = lab.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")])
    assert charge.setlinfo["clr_optins"] == "530100"
    cross = lab.register(SHENZHEN_RESIDENT, "390")
    assert "未开通跨省异地门诊直接结算" in (cross.err_msg or "")
    [registered] = services.registered_institutions()
    assert (registered.key_id, registered.paasid, registered.signing_profile) == (
        "k1",
        "lab",
        "tif",
    )


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("X53010199001", "医院", "530100", "3", []), "fixmedins_code"),
        (("H53010199001", "医院", "5301", "3", []), "mdtrtarea_admvs"),
        (("H53010199001", "医院", "530100", "4", []), "level"),
        (("H53010199001", "医院", "530100", "3", ["teleport"]), "networked"),
        (("H53010199001", "", "530100", "3", []), "fixmedins_name"),
    ],
)
def test_institution_registration_is_validated(
    services: PlatformServices, args: tuple, field: str
) -> None:
    with pytest.raises(ServiceError) as raised:
        services.register_institution(*args)
    assert raised.value.field == field


def test_a_tenant_can_have_its_own_fixtures(
    desk: Desk, services: PlatformServices, tmp_path: Path
) -> None:
    folder = tmp_path / "fixtures"
    shutil.copytree(bundled_fixture_dir(), folder)
    persons = folder / "persons.yaml"
    text = persons.read_text("utf-8")
    start = text.index('psn_no: "P53010000000002"')
    suspended = text[start:].replace('psn_insu_stas: "1"', 'psn_insu_stas: "2"', 1)
    persons.write_text(text[:start] + suspended, "utf-8")

    services.load_fixtures(desk.tenant, folder)
    refused = desk.register(RETIREE_AT_HOME)
    assert "参保状态为 2（非正常参保）" in (refused.err_msg or "")
    other = Desk(desk.engine, desk.store, tenant="H53010200002")
    other.sign_in()
    assert other.register(RETIREE_AT_HOME).infcode == 0
    services.use_default_fixtures(desk.tenant)
    assert desk.register(RETIREE_AT_HOME).infcode == 0

    (folder / "institutions.yaml").write_text("institutions: []\n", "utf-8")
    with pytest.raises(FixtureError, match="institutions"):
        services.load_fixtures(desk.tenant, folder)


def test_filing_overrides(desk: Desk, services: PlatformServices) -> None:
    # Beijing 三级 0.70 + retiree 0.15 = 0.85; unfiled cross-province: −0.20
    services.set_filing(desk.tenant, BEIJING_RETIREE, None)
    unfiled = desk.charge(BEIJING_RETIREE, [(CLASS_A_DRUG, "10", "1")])
    assert unfiled.setlinfo["pool_prop_selfpay"] == Decimal("0.6500")
    services.set_filing(
        desk.tenant,
        BEIJING_RETIREE,
        "referral",
        area="530102",
        begndate=date(2026, 1, 1),
        enddate=date(2026, 12, 31),
    )
    referral = desk.charge(BEIJING_RETIREE, [(CLASS_A_DRUG, "10", "1")], prefix="R")
    assert referral.setlinfo["pool_prop_selfpay"] == Decimal("0.7500")
    assert services.clear_filing(desk.tenant, BEIJING_RETIREE) is True
    filed = desk.charge(BEIJING_RETIREE, [(CLASS_A_DRUG, "10", "1")], prefix="T")
    assert filed.setlinfo["pool_prop_selfpay"] == Decimal("0.8500")


def test_filing_and_token_arguments_are_validated(services: PlatformServices) -> None:
    tenant = "H53010100001"
    cases = [
        (lambda: services.set_filing(tenant, "P0", None), "psn_no"),
        (
            lambda: services.set_filing(
                tenant, LOCAL, "vacation", area="530100", begndate=date(2026, 1, 1)
            ),
            "kind",
        ),
        (lambda: services.set_filing(tenant, LOCAL, "retiree"), "area"),
        (
            lambda: services.set_filing(
                tenant,
                LOCAL,
                "retiree",
                area="530100",
                begndate=date(2026, 2, 1),
                enddate=date(2026, 1, 1),
            ),
            "enddate",
        ),
        (lambda: services.issue_ec_token(tenant, LOCAL, valid_for=timedelta(0)), "valid_for"),
        (lambda: services.issue_ec_token(tenant, "P0"), "psn_no"),
        (lambda: services.schedule_downtime(tenant, "440300", START, START), "end"),
        (lambda: services.schedule_downtime(tenant, "44", START, START), "admdvs"),
        (
            lambda: services.schedule_downtime(
                tenant, "440300", START.replace(tzinfo=None), START.replace(tzinfo=None)
            ),
            "start",
        ),
        (lambda: services.statistics(tenant, date(2026, 2, 1), date(2026, 1, 1)), "enddate"),
    ]
    for call, field in cases:
        with pytest.raises(ServiceError) as raised:
            call()
        assert raised.value.field == field


def test_tokens_carry_their_expiry(services: PlatformServices) -> None:
    token = services.issue_ec_token("H53010100001", LOCAL, valid_for=timedelta(hours=2))
    assert token.expires_at - token.issued_at == timedelta(hours=2)
    assert token.token.startswith("ECT")
    assert len(token.token) <= 50
    chosen = services.issue_ec_token("H53010100001", LOCAL, token="EC-LAB-0001")
    assert chosen.token == "EC-LAB-0001"


def test_notice_board(services: PlatformServices) -> None:
    tenant = "H53010100001"
    past = services.schedule_downtime(
        tenant, "110100", START - timedelta(days=2), START - timedelta(days=1)
    )
    later = services.schedule_downtime(
        tenant,
        "440300",
        START + timedelta(days=1),
        START + timedelta(days=1, hours=2),
        reason="升级",
    )
    now = services.schedule_downtime(
        tenant, "510100", START - timedelta(hours=1), START + timedelta(hours=1)
    )
    assert [w.window_id for w in services.notices(tenant)] == [now.window_id, later.window_id]
    assert services.notices(tenant, include_past=True)[0].window_id == past.window_id
    assert services.notices("H53010200002") == []


def test_statistics_net_out_reversals(desk: Desk, services: PlatformServices) -> None:
    first = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "50")])  # 500.00, pooling pays 120.00
    desk.charge(SHENZHEN_RESIDENT, [(CLASS_A_DRUG, "10", "10")], insutype="390")  # 35.00 fund
    refunded = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")], prefix="S")
    desk.cancel_settlement(LOCAL, refunded.mdtrt_id, refunded.setl_id)
    stats = services.statistics(desk.tenant, date(2026, 11, 23), date(2026, 11, 23))
    total = stats.total
    assert (total.settlements, total.visits) == (2, 2)
    assert total.medfee_sumamt == Decimal("600.00")
    assert total.fund_pay_sumamt == Decimal("155.00")
    assert total.fund_share == Decimal("0.2583")
    assert stats.by_locality["cross_province"].fund_pay_sumamt == Decimal("35.00")
    assert stats.by_locality["local"].visits == 1
    assert stats.by_locality["in_province"].fund_share is None
    with desk.store.snapshot() as tx:
        assert len(tx.find(Settlement, tenant=desk.tenant)) == 4
    assert first.setlinfo["hifp_pay"] == Decimal("120.00")

    other = Desk(desk.engine, desk.store, tenant="H53010200002")
    other.sign_in()
    other.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")])
    everyone = services.statistics(None, date(2026, 11, 23), date(2026, 11, 23))
    assert (everyone.total.visits, everyone.total.medfee_sumamt) == (3, Decimal("610.00"))
    assert services.statistics(desk.tenant, date(2026, 11, 24), date(2026, 12, 1)).total.visits == 0


def test_reset_tenant(desk: Desk, services: PlatformServices) -> None:
    desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")])
    deleted = services.reset_tenant(desk.tenant)
    assert deleted["settlements"] == 1
    assert deleted["messages"] > 0
    assert desk.register(LOCAL).infcode == -1  # the sign-in went with the rest

"""The reference HIS's database keeps the chronic-disease registrations it made across a
restart, and forgets one once it is cancelled."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from examples.reference_his.store import HisStore

from nhsa.client import ChronicDisease, ChronicRegistration

TENANT = "H53010112345"


def test_a_registration_survives_a_restart_and_is_forgotten_once_cancelled(
    tmp_path: Path,
) -> None:
    made = ChronicRegistration(
        "9000000000007", "P53010000000016", "310", "530100", ChronicDisease.of("M01600"),
        date(2026, 11, 23), None, "H53010112345202611230900000001",
    )  # fmt: skip
    store = HisStore(tmp_path / "his.db")
    store.add_chronic(TENANT, made)
    store.close()
    reopened = HisStore(tmp_path / "his.db")
    assert reopened.chronic(TENANT, made.trt_dcla_detl_sn) == made
    assert reopened.chronic("H53010199999", made.trt_dcla_detl_sn) is None  # another tenant's
    reopened.forget_chronic(TENANT, made.trt_dcla_detl_sn)
    assert reopened.chronic(TENANT, made.trt_dcla_detl_sn) is None
    reopened.close()

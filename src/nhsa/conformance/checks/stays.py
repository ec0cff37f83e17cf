"""Inpatient stays: fees only during the stay, the HIS's totals, the order of a stay, newest
first, the password medium — each judged from what the platform saw.

A refusal the platform gave for one of these rules (its ``errors.json`` id in the record) is
the HIS's fault as much as a wrong request that slipped through: the HIS sent it.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["stay_settlements_cancelled_newest_first"].verifies
    ('HIS-INP-004',)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import orjson

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, not_applicable
from nhsa.conformance._money import amount
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import TranscriptRecord, settlements
from nhsa.conformance.checks._common import evidence_for, show, verdict

__all__ = [
    "final_settlement_after_discharge_and_presettlement",
    "stay_fees_within_the_stay",
    "stay_settlement_carries_the_password_medium",
    "stay_settlements_cancelled_newest_first",
    "stay_total_matches_the_platforms_lines",
]

SCOPE: Final = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
"""The scope amounts a 2304 repeats from its 2303."""


def _refused_for(record: TranscriptRecord, *errors: str) -> bool:
    return record.definite_failure and record.error_id in errors


@check("stay_fees_within_the_stay", verifies=["HIS-INP-001"])
def stay_fees_within_the_stay(ctx: CheckContext) -> CheckOutcome:
    """Fee batches (2301) come only while the patient is in hospital, for the stay's time.

    Example::

        expect:
          checks: [stay_fees_within_the_stay]
    """
    uploads = ctx.records_of("2301", "2402")
    if not ctx.records_of("2301"):
        return not_applicable("the HIS uploaded no inpatient fees")
    problems = [
        evidence_for(
            ctx,
            record,
            "fees uploaded while the stay is open, for its time (and a discharge after them)",
            f"{record.infno} refused ({record.error_id}): {show(record.err_msg)}",
        )
        for record in uploads
        if _refused_for(record, "business.stay_discharged", "business.fee_outside_stay")
    ]
    return verdict(
        problems,
        f"all {len(ctx.records_of('2301'))} fee batches fell within their stays",
        "fees outside the stay",
    )


@check("stay_total_matches_the_platforms_lines", verifies=["HIS-INP-002"])
def stay_total_matches_the_platforms_lines(ctx: CheckContext) -> CheckOutcome:
    """The HIS's total of a stay settlement (2303, 2304 ``medfee_sumamt``) is what the platform
    holds for it: every fee the HIS counts was uploaded, nothing it cancelled is counted.

    Example::

        expect:
          checks: [stay_total_matches_the_platforms_lines]
    """
    sent = ctx.records_of("2303", "2304")
    if not sent:
        return not_applicable("the HIS settled no stay")
    problems: list[Evidence] = []
    for record in sent:
        mine = _amount(record.data.get("medfee_sumamt"))
        if _refused_for(record, "business.amount_mismatch"):
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    "medfee_sumamt equal to the stay's uploaded lines",
                    f"medfee_sumamt {show(mine)} refused: {show(record.err_msg)}",
                )
            )
        elif record.definite_success:
            held = _amount(record.output_node("setlinfo").get("medfee_sumamt"))
            if mine != held:
                problems.append(
                    evidence_for(
                        ctx, record, f"medfee_sumamt {show(held)}", f"medfee_sumamt {show(mine)}"
                    )
                )
    return verdict(
        problems,
        f"all {len(sent)} stay (pre-)settlements carried the platform's total",
        "stay totals that differ from the uploaded lines",
    )


@check("final_settlement_after_discharge_and_presettlement", verifies=["HIS-INP-003"])
def final_settlement_after_discharge_and_presettlement(ctx: CheckContext) -> CheckOutcome:
    """A stay's final 2304 follows its discharge (2402); every 2304 follows a 2303 of the same
    kind and repeats its amounts.

    Example::

        expect:
          checks: [final_settlement_after_discharge_and_presettlement]
    """
    sent = ctx.records_of("2304")
    if not sent:
        return not_applicable("the HIS sent no 2304")
    problems: list[Evidence] = []
    for record in sent:
        if _refused_for(record, "business.not_discharged", "business.not_presettled"):
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    "discharge (2402) and pre-settlement (2303) first",
                    f"refused ({record.error_id}): {show(record.err_msg)}",
                )
            )
            continue
        pre = _presettlement(ctx, record)
        if pre is None:
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    "a successful 2303 of the stay (same mid_setl_flag) first",
                    f"none for {show(record.mdtrt_id)}",
                )
            )
            continue
        info = pre.output_node("setlinfo")
        for name in ("medfee_sumamt", *SCOPE):
            value = record.data.get(name)
            if value is None and name != "medfee_sumamt":
                continue  # optional in 2304: nothing to compare
            if _amount(value) != _amount(info.get(name)):
                problems.append(
                    evidence_for(
                        ctx,
                        [record, pre],
                        f"{name} {show(info.get(name))} (2303)",
                        f"{name} {show(value)} (2304)",
                    )
                )
    return verdict(
        problems,
        f"all {len(sent)} stay settlements followed their discharge and pre-settlement",
        "stay settlements out of order",
    )


def _presettlement(ctx: CheckContext, record: TranscriptRecord) -> TranscriptRecord | None:
    kind = (record.mdtrt_id, record.data.get("mid_setl_flag"))
    earlier = [
        r
        for r in ctx.records_of("2303")
        if r.seq < record.seq
        and r.definite_success
        and (r.mdtrt_id, r.data.get("mid_setl_flag")) == kind
    ]
    return earlier[-1] if earlier else None


@check("stay_settlements_cancelled_newest_first", verifies=["HIS-INP-004"])
def stay_settlements_cancelled_newest_first(ctx: CheckContext) -> CheckOutcome:
    """A stay's settlements are cancelled (2305, or 2601 of a 2304) newest first.

    Example::

        expect:
          checks: [stay_settlements_cancelled_newest_first]
    """
    cancels = [
        r
        for r in ctx.records
        if r.infno == "2305" or (r.infno == "2601" and r.data.get("oinfno") == "2304")
    ]
    if not cancels:
        return not_applicable("the HIS cancelled no stay settlement")
    problems: list[Evidence] = []
    for record in cancels:
        standing = [
            t
            for t in settlements(ctx.records, until_seq=record.seq - 1)
            if t.live and t.mdtrt_id == record.mdtrt_id
        ]
        target = (
            record.data.get("setl_id")
            if record.infno == "2305"
            else next((t.setl_id for t in standing if t.msgid == record.data.get("omsgid")), None)
        )
        newest = standing[-1].setl_id if standing else None
        if _refused_for(record, "business.cancel_order") or (
            target is not None and newest is not None and target != newest
        ):
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    f"the newest settlement of stay {show(record.mdtrt_id)} ({show(newest)})",
                    f"{record.infno} of {show(target)}",
                )
            )
    return verdict(
        problems,
        f"all {len(cancels)} stay cancellations took the newest settlement",
        "stay settlements cancelled out of order",
    )


@check("stay_settlement_carries_the_password_medium", verifies=["HIS-INP-006"])
def stay_settlement_carries_the_password_medium(ctx: CheckContext) -> CheckOutcome:
    """A local or in-province 2304 carries the medium read with the patient's password
    (``exp_content`` ``card_token``) — or runs in the test mode ``signtype`` MOCK.

    Example::

        expect:
          checks: [stay_settlement_carries_the_password_medium]
    """
    area = ctx.plan.configuration.mdtrtarea_admvs
    sent = [
        r
        for r in ctx.records_of("2304")
        if str(r.envelope.get("insuplc_admdvs") or "")[:2] == area[:2]
    ]
    if not sent:
        return not_applicable("no local or in-province stay was settled")
    problems = [
        evidence_for(
            ctx,
            record,
            'exp_content {"card_token": …} (or signtype MOCK)',
            "no password medium"
            if not _refused_for(record, "business.password_not_verified")
            else f"refused: {show(record.err_msg)}",
        )
        for record in sent
        if _refused_for(record, "business.password_not_verified")
        or not (record.envelope.get("signtype") == "MOCK" or _card_token(record.data))
    ]
    return verdict(
        problems,
        f"all {len(sent)} in-province stay settlements carried the password medium",
        "in-province stay settlements without the password medium",
    )


def _card_token(data: Mapping[str, Any]) -> bool:
    text = data.get("exp_content") or data.get("expContent")
    if not isinstance(text, str) or not text:
        return False
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, Mapping) and bool(value.get("card_token"))


def _amount(value: object) -> Decimal | None:
    try:
        return amount(value)
    except ValueError:
        return None

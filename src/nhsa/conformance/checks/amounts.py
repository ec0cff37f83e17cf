"""Amounts and areas: insured area from 1101, 2207 echoes 2206, totals match the fee lines.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["settle_echoes_presettle"].verifies
    ('HIS-AMT-001',)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, not_applicable
from nhsa.conformance._money import amount, cents
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import TranscriptRecord, fee_lines_for_batch
from nhsa.conformance.checks._common import evidence_for, learn_areas, show, verdict

__all__ = ["insuplc_from_1101", "settle_echoes_presettle", "settled_total_matches_fees"]

ECHOED_AMOUNTS: Final = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
)
"""The 2207 input amounts that must repeat the pre-settlement (reference §3.11)."""


@check("insuplc_from_1101", verifies=["HIS-ARE-001"])
def insuplc_from_1101(ctx: CheckContext) -> CheckOutcome:
    """Requests about a person carry that person's insured area from 1101, not the hospital's.

    Example::

        expect:
          checks: [insuplc_from_1101]
    """
    areas: dict[str, dict[str, str]] = {}
    problems: list[Evidence] = []
    checked = 0
    for record in ctx.records:
        if record.infno == "1101":
            learn_areas(record, areas)
            continue
        psn_no = record.psn_no
        if psn_no is None or not record.envelope:
            continue
        checked += 1
        sent = record.envelope.get("insuplc_admdvs")
        known = areas.get(psn_no)
        if known is None:
            problems.append(
                evidence_for(
                    ctx, record, f"a 1101 lookup of {psn_no} first", "psn_no used without one"
                )
            )
            continue
        insutype = record.data.get("insutype")
        expected = {known[insutype]} if insutype in known else set(known.values())
        if sent not in expected:
            want = " or ".join(sorted(expected))
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    f"insuplc_admdvs {want} (from 1101)",
                    f"insuplc_admdvs {show(sent)}",
                )
            )
    if not checked:
        return not_applicable("no request carried a psn_no")
    return verdict(
        problems,
        f"all {checked} requests about a person carry the insured area from 1101",
        "requests with the wrong insured area",
    )


@check("settle_echoes_presettle", verifies=["HIS-AMT-001"])
def settle_echoes_presettle(ctx: CheckContext) -> CheckOutcome:
    """Each 2207 repeats the amounts of the last 2206 answer for the same visit and batch.

    Example::

        expect:
          checks: [settle_echoes_presettle]
    """
    settlements = ctx.records_of("2207")
    if not settlements:
        return not_applicable("the HIS sent no 2207")
    problems: list[Evidence] = []
    for record in settlements:
        data = record.data
        presettle = _last_presettlement(ctx, record)
        if presettle is None:
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    "a successful 2206 of the same visit and batch first",
                    f"none for {show(data.get('mdtrt_id'))}/{show(data.get('chrg_bchno'))}",
                )
            )
            continue
        info = presettle.output_node("setlinfo")
        for name in ECHOED_AMOUNTS:
            sent, answered = _amount(data.get(name)), _amount(info.get(name))
            if sent is None or sent != answered:
                problems.append(
                    evidence_for(
                        ctx,
                        [record, presettle],
                        f"{name} {show(answered)} (2206)",
                        f"{name} {show(sent)} (2207)",
                    )
                )
    return verdict(
        problems,
        f"all {len(settlements)} settlements echo their pre-settlement",
        "settlements whose amounts differ from the pre-settlement",
    )


def _last_presettlement(ctx: CheckContext, record: TranscriptRecord) -> TranscriptRecord | None:
    key = (record.data.get("mdtrt_id"), record.data.get("chrg_bchno"))
    candidates = [
        r
        for r in ctx.records_of("2206")
        if r.seq < record.seq
        and r.definite_success
        and (r.data.get("mdtrt_id"), r.data.get("chrg_bchno")) == key
    ]
    return candidates[-1] if candidates else None


@check("settled_total_matches_fees", verifies=["HIS-AMT-002"])
def settled_total_matches_fees(ctx: CheckContext) -> CheckOutcome:
    """A 2207's medfee_sumamt equals its batch's fee lines; each line is round(cnt × pric, 2).

    Example::

        expect:
          checks: [settled_total_matches_fees]
    """
    settlements = ctx.records_of("2207")
    if not settlements:
        return not_applicable("the HIS sent no 2207")
    problems: list[Evidence] = []
    for record in settlements:
        data = record.data
        mdtrt_id, batch = str(data.get("mdtrt_id")), str(data.get("chrg_bchno"))
        lines = fee_lines_for_batch(ctx.records, mdtrt_id, batch, before_seq=record.seq)
        if not lines:
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    f"fee lines uploaded (2204) for batch {batch}",
                    "none held by the platform",
                )
            )
            continue
        total = sum((line.det_item_fee_sumamt for line in lines), Decimal("0.00"))
        sent = _amount(data.get("medfee_sumamt"))
        if sent != total:
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    f"medfee_sumamt {total} (sum of {len(lines)} lines)",
                    f"medfee_sumamt {show(sent)}",
                )
            )
        for line in lines:
            if line.cnt is None or line.pric is None:
                continue
            expected = cents(line.cnt * line.pric)
            if expected != line.det_item_fee_sumamt:
                upload = ctx.record(line.seq) or record
                problems.append(
                    evidence_for(
                        ctx,
                        upload,
                        f"line {line.feedetl_sn}: {line.cnt} × {line.pric} = {expected}",
                        f"det_item_fee_sumamt {line.det_item_fee_sumamt}",
                    )
                )
    return verdict(
        problems,
        f"all {len(settlements)} settled totals match their fee lines",
        "settled totals that do not match the fee lines",
    )


def _amount(value: object) -> Decimal | None:
    try:
        return amount(value)
    except ValueError:
        return None

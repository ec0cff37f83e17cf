"""Envelope checks: valid per the contract, msgid rules, the institution's own codes, signatures.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["msgid_unique"].verifies
    ('HIS-MSG-003',)
"""

from __future__ import annotations

from collections import defaultdict

from nhsa import spec
from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, not_applicable
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import TranscriptRecord
from nhsa.conformance.checks._common import evidence_for, show, verdict
from nhsa.envelope import decode_request, parse_msgid

__all__ = [
    "envelope_names_own_institution",
    "msgid_format",
    "msgid_unique",
    "requests_signed",
    "requests_valid_per_contract",
]

_ISSUES_SHOWN = 3


@check("requests_valid_per_contract", verifies=["HIS-MSG-001"])
def requests_valid_per_contract(ctx: CheckContext) -> CheckOutcome:
    """Every request is a JSON envelope in the run's dialect, and valid against the contract
    for its transaction once read back into the national shape.

    The dialect is the one the HIS was told in ``configure`` (``nhsa conformance run
    --dialect``): a member spelt the national way where the province spells it otherwise
    (``refd_setl_flag`` for Guangdong's ``REFD_SETL_FLAG``), a node under its national name,
    a member the province requires left out — each fails the check, named.

    Example::

        expect:
          checks: [requests_valid_per_contract]
    """
    if not ctx.records:
        return not_applicable("the HIS sent nothing to the platform")
    spoken = spec.dialect(ctx.plan.configuration.dialect)
    expected = "valid per interface_specs/v1" + (
        "" if spoken.is_national else f" in the {spoken.name} dialect"
    )
    problems: list[Evidence] = []
    for record in ctx.records:
        if not isinstance(record.request, dict):
            problems.append(
                evidence_for(ctx, record, "a JSON envelope", "a body that is not a JSON object")
            )
            continue
        national, issues = decode_request(spoken, record.request)
        issues.extend(spec.validate_request(national))
        entries = spoken.entries(str(record.infno))
        if record.infno and record.path not in entries:
            issues.insert(0, _off_route(record.path, spoken, entries))
        if issues:
            shown = "; ".join(str(issue) for issue in issues[:_ISSUES_SHOWN])
            more = f" (+{len(issues) - _ISSUES_SHOWN} more)" if len(issues) > _ISSUES_SHOWN else ""
            problems.append(evidence_for(ctx, record, expected, shown + more))
    where = "" if spoken.is_national else f" in the {spoken.name} dialect"
    return verdict(
        problems,
        f"all {len(ctx.records)} requests are valid per the contract{where}",
        f"requests that break the contract{where}",
    )


def _off_route(path: str, spoken: spec.Dialect, entries: tuple[str, ...]) -> spec.ValidationIssue:
    where = " or ".join(entries) or "nowhere"
    return spec.ValidationIssue(
        "", "dialect-entry", f"path {path}: the {spoken.name} platform takes it at {where}"
    )


@check("msgid_format", verifies=["HIS-MSG-002"], args={"max_skew_seconds": int})
def msgid_format(ctx: CheckContext) -> CheckOutcome:
    """Every msgid is the institution's code + send time (yyyyMMddHHmmss) + a 4-digit sequence.

    The time part may differ from when the platform received the request by at most
    ``max_skew_seconds`` (default 600): a msgid is generated just before sending.

    Example::

        expect:
          checks: [{name: msgid_format, args: {max_skew_seconds: 600}}]
    """
    skew = int(ctx.args.get("max_skew_seconds", 600))
    problems: list[Evidence] = []
    checked = 0
    for record in ctx.records:
        msgid = record.envelope.get("msgid")  # as sent: a msgid of the wrong type is malformed
        if msgid is None:
            continue
        checked += 1
        problem = _msgid_problem(str(msgid), ctx.fixmedins_code, record, skew)
        if problem:
            expected = f"{ctx.fixmedins_code} + yyyyMMddHHmmss + 4 digits"
            problems.append(evidence_for(ctx, record, expected, problem))
    if not checked:
        return not_applicable("no request carried a msgid")
    return verdict(problems, f"all {checked} msgids are well formed", "malformed msgids")


def _msgid_problem(msgid: str, code: str, record: TranscriptRecord, skew: int) -> str | None:
    try:
        prefix, when, _ = parse_msgid(msgid)
    except ValueError as exc:
        return str(exc)
    if prefix != code:
        return f"msgid {msgid} starts with {prefix}, not the institution's code {code}"
    received = record.received_at
    if abs((received - when).total_seconds()) > skew:
        return (
            f"msgid {msgid}: its time {when:%Y-%m-%d %H:%M:%S} is more than {skew} s from "
            f"when the platform received it ({received:%Y-%m-%d %H:%M:%S})"
        )
    return None


@check("msgid_unique", verifies=["HIS-MSG-003"])
def msgid_unique(ctx: CheckContext) -> CheckOutcome:
    """No msgid is used for two requests the platform processed.

    A request the gateway rejected was never processed, so sending its msgid again (a
    transport retry) is not a reuse.

    Example::

        expect:
          checks: [msgid_unique]
    """
    by_msgid: dict[str, list[TranscriptRecord]] = defaultdict(list)
    for record in ctx.records:
        if record.msgid is not None:
            by_msgid[record.msgid].append(record)
    problems = []
    for msgid, records in by_msgid.items():
        processed = [r for r in records if r.gateway.ok]
        if len(processed) > 1:
            infnos = ", ".join(show(r.infno) for r in processed)
            problems.append(
                evidence_for(
                    ctx,
                    processed,
                    "each msgid used once",
                    f"{msgid} used {len(processed)} times ({infnos})",
                )
            )
    if not by_msgid:
        return not_applicable("no request carried a msgid")
    return verdict(problems, f"all {len(by_msgid)} msgids are unique", "reused msgids")


@check("envelope_names_own_institution", verifies=["HIS-MSG-004"])
def envelope_names_own_institution(ctx: CheckContext) -> CheckOutcome:
    """Every request names the hospital's own fixmedins_code and area (mdtrtarea_admvs).

    Example::

        expect:
          checks: [envelope_names_own_institution]
    """
    config = ctx.plan.configuration
    problems = []
    for record in ctx.records:
        envelope = record.envelope
        if not envelope:
            continue
        code, area = envelope.get("fixmedins_code"), envelope.get("mdtrtarea_admvs")
        if code != config.fixmedins_code or area != config.mdtrtarea_admvs:
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    f"fixmedins_code {config.fixmedins_code},"
                    f" mdtrtarea_admvs {config.mdtrtarea_admvs}",
                    f"fixmedins_code {show(code)}, mdtrtarea_admvs {show(area)}",
                )
            )
    return verdict(
        problems,
        "every request names the hospital's own code and area",
        "requests naming another institution or area",
    )


@check("requests_signed", verifies=["HIS-SIG-001"])
def requests_signed(ctx: CheckContext) -> CheckOutcome:
    """Every request passes the gateway (tif) and carries a valid SM2 signature, as required.

    Example::

        expect:
          checks: [requests_signed]
    """
    profile = ctx.plan.registration.profile
    tif, sm2 = "tif" in profile, "sm2" in profile
    if not (tif or sm2):
        return not_applicable("the scenario's signing profile is none")
    problems = []
    for record in ctx.records:
        gateway, signature = record.gateway, record.signature
        if tif and not gateway.ok:
            seen = gateway.error or "gateway check failed"
            family = {"csb": "CSB _api_*", "bearer": "bearer token"}.get(gateway.family or "")
            expected = f"valid {family or 'x-tif'} gateway headers"
            problems.append(evidence_for(ctx, record, expected, show(seen)))
        if sm2 and not (signature.present and signature.ok is True):
            seen = signature.error or "no valid signature"
            problems.append(evidence_for(ctx, record, "a valid SM2 signature (cainfo)", show(seen)))
    if not ctx.records:
        return not_applicable("the HIS sent nothing to the platform")
    return verdict(
        problems,
        f"all {len(ctx.records)} requests are signed as profile {profile} requires",
        "requests not signed as required",
    )

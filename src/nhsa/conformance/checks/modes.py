"""Window and kiosk: opter_type, dev_no, accepted certificates, and telling the patient.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["opter_type_matches_mode"].verifies
    ('HIS-MOD-001', 'HIS-MOD-002')
"""

from __future__ import annotations

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, not_applicable
from nhsa.conformance._registry import check
from nhsa.conformance.checks._common import evidence_for, show, verdict

__all__ = [
    "kiosk_certificate_types",
    "kiosk_sends_dev_no",
    "kiosk_tells_patient",
    "opter_type_matches_mode",
]

OPTER_TYPE = {"window": "1", "kiosk": "2"}
KIOSK_CERTIFICATES = ("01", "03")


@check("opter_type_matches_mode", verifies=["HIS-MOD-001", "HIS-MOD-002"])
def opter_type_matches_mode(ctx: CheckContext) -> CheckOutcome:
    """Every request's opter_type matches the counter: 1 at a window, 2 at a kiosk.

    Example::

        expect:
          checks: [opter_type_matches_mode]
    """
    wanted = OPTER_TYPE[ctx.mode]
    problems = [
        evidence_for(
            ctx,
            r,
            f"opter_type {wanted} ({ctx.mode})",
            f"opter_type {show(r.envelope.get('opter_type'))}",
        )
        for r in ctx.records
        if r.envelope and r.envelope.get("opter_type") != wanted
    ]
    if not ctx.records:
        return not_applicable("the HIS sent nothing to the platform")
    return verdict(
        problems,
        f"every request says opter_type {wanted} ({ctx.mode})",
        "requests with the wrong opter_type",
    )


@check("kiosk_sends_dev_no", verifies=["HIS-MOD-002"])
def kiosk_sends_dev_no(ctx: CheckContext) -> CheckOutcome:
    """At a kiosk, every request carries the terminal's device number (dev_no).

    Example::

        expect:
          checks: [kiosk_sends_dev_no]
    """
    if ctx.mode != "kiosk":
        return not_applicable("applies to kiosk scenarios only")
    problems = [
        evidence_for(ctx, r, "dev_no set", "no dev_no")
        for r in ctx.records
        if r.envelope and not r.envelope.get("dev_no")
    ]
    if not ctx.records:
        return not_applicable("the HIS sent nothing to the platform")
    return verdict(problems, "every kiosk request carries dev_no", "kiosk requests without dev_no")


@check("kiosk_certificate_types", verifies=["HIS-MOD-003"])
def kiosk_certificate_types(ctx: CheckContext) -> CheckOutcome:
    """A kiosk uses only the e-voucher (01) or the card (03), and refuses others before sending.

    Every request carrying mdtrt_cert_type must say 01 or 03; a step whose patient presented
    another certificate must end ``rejected`` with no request of that certificate sent.

    Example::

        expect:
          checks: [kiosk_certificate_types]
    """
    if ctx.mode != "kiosk":
        return not_applicable("applies to kiosk scenarios only")
    problems: list[Evidence] = []
    for record in ctx.records:
        cert_type = record.data.get("mdtrt_cert_type")
        if cert_type is not None and cert_type not in KIOSK_CERTIFICATES:
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    "mdtrt_cert_type 01 or 03",
                    f"{cert_type} ({show(record.infno)})",
                )
            )
    for step in ctx.steps_of("register"):
        presented = step.request.get("certificate", {}).get("cert_type")
        if presented in KIOSK_CERTIFICATES or presented is None:
            continue
        if step.outcome != "rejected":
            problems.append(
                Evidence(
                    f"certificate {presented} refused at the kiosk",
                    f"outcome {show(step.outcome)}",
                    step.records,
                    step.name,
                )
            )
    return verdict(
        problems,
        "the kiosk used and accepted only e-vouchers and cards",
        "certificate rules broken at the kiosk",
    )


@check("kiosk_tells_patient", verifies=["HIS-MOD-004"])
def kiosk_tells_patient(ctx: CheckContext) -> CheckOutcome:
    """When a kiosk action does not succeed, the kiosk tells the patient (patient_message).

    Example::

        expect:
          checks: [kiosk_tells_patient]
    """
    if ctx.mode != "kiosk":
        return not_applicable("applies to kiosk scenarios only")
    unfinished = [
        (s, r)
        for s, r in ctx.iter_results()
        if s.action != "sign_in" and r.status in ("rejected", "unknown")
    ]
    if not unfinished:
        return not_applicable("every kiosk action succeeded; nothing to tell the patient")
    problems = [
        Evidence(
            "a message for the patient",
            f"{result.status} with no patient_message",
            step.records,
            step.name,
        )
        for step, result in unfinished
        if not (result.patient_message or "").strip()
    ]
    return verdict(
        problems,
        f"the patient was told in all {len(unfinished)} unfinished kiosk actions",
        "unfinished kiosk actions without a message for the patient",
    )

"""Session checks: sign in (9001) before business calls, carry its sign_no, sign in again.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["sign_in_first"].verifies
    ('HIS-SES-001',)
"""

from __future__ import annotations

from nhsa.conformance._context import (
    CheckContext,
    CheckOutcome,
    Evidence,
    failed,
    not_applicable,
    passed,
)
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import SESSION_INFNOS
from nhsa.conformance.checks._common import evidence_for, show, verdict

__all__ = ["re_sign_in_after_rejection", "sign_in_first", "sign_no_carried"]

_SIGN_IN_WORDS = ("9001", "签到")


@check("sign_in_first", verifies=["HIS-SES-001"])
def sign_in_first(ctx: CheckContext) -> CheckOutcome:
    """The HIS signs in (9001, answered successfully) before its first business call.

    Example::

        expect:
          checks: [sign_in_first]
    """
    signed_in = False
    for record in ctx.records:
        if record.sign_no_issued:
            signed_in = True
        elif record.infno not in SESSION_INFNOS:
            if signed_in:
                return passed(f"signed in before the first business call ({record.infno})")
            return failed(
                "the first business call was sent without a prior successful sign-in",
                evidence_for(ctx, record, "a successful 9001 first", f"{show(record.infno)} first"),
            )
    return not_applicable("the HIS made no business call")


@check("sign_no_carried", verifies=["HIS-SES-002"])
def sign_no_carried(ctx: CheckContext) -> CheckOutcome:
    """Every business call carries a sign_no the platform issued to this HIS by 9001.

    Example::

        expect:
          checks: [sign_no_carried]
    """
    issued: set[str] = set()
    problems: list[Evidence] = []
    business = 0
    for record in ctx.records:
        if record.sign_no_issued:
            issued.add(record.sign_no_issued)
            continue
        if record.infno in SESSION_INFNOS:
            continue
        business += 1
        carried = record.envelope.get("sign_no")
        if carried not in issued:
            known = ", ".join(sorted(issued)) or "none issued yet"
            problems.append(
                evidence_for(ctx, record, f"a sign_no from 9001 ({known})", show(carried))
            )
    if not business:
        return not_applicable("the HIS made no business call")
    return verdict(
        problems,
        f"all {business} business calls carry an issued sign_no",
        "business calls without a valid sign_no",
    )


@check("re_sign_in_after_rejection", verifies=["HIS-SES-003"])
def re_sign_in_after_rejection(ctx: CheckContext) -> CheckOutcome:
    """After the platform says the sign-in is missing or expired, the next call is a new 9001.

    Example::

        expect:
          checks: [re_sign_in_after_rejection]
    """
    problems: list[Evidence] = []
    rejections = [
        r
        for r in ctx.records
        if r.infno not in SESSION_INFNOS
        and r.definite_failure
        and any(word in (r.err_msg or "") for word in _SIGN_IN_WORDS)
    ]
    for rejection in rejections:
        later = [r for r in ctx.records if r.seq > rejection.seq and r.infno != "9002"]
        if later and later[0].infno != "9001":
            problems.append(
                evidence_for(
                    ctx,
                    [rejection, later[0]],
                    "9001 next",
                    f"{show(later[0].infno)} next with the stale sign_no",
                )
            )
    if not rejections:
        return not_applicable("the platform never answered that the sign-in was missing or expired")
    return verdict(
        problems,
        "the HIS signed in again after every sign-in rejection",
        "business calls after a sign-in rejection without signing in again",
    )

"""Checks every business call passes before its handler runs, in this order:

1. the envelope's ``mdtrtarea_admvs`` is the institution's treatment area;
2. sign-in (9001) — when :class:`~nhsa.mock.engine.EngineOptions` enforces it;
3. the insured place's system is up: a call routed to an insured area inside a scheduled
   downtime window (停机) is refused with the window's end, so the window can tell the patient
   when to come back.

Example::

    check_call(ctx)                       # raises BusinessError, or returns
"""

from __future__ import annotations

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._signin import check_signed_in
from nhsa.mock.store import Downtime

SIGN_IN_EXEMPT = frozenset({"9001", "9002"})
"""Transactions that need no prior sign-in (9002 names its sign_no in its input)."""

NOT_ROUTED_TO_INSURED_PLACE = frozenset({"9001", "9002", "9101", "9102", "3201", "3202"})
"""Calls the treatment place's own system answers: an insured-place downtime does not stop them,
and an insured-place fault leaves them alone unless its ``infno`` scope names them."""


def check_call(ctx: Context) -> None:
    """Refuse the call if the area, sign-in or insured-place availability says so."""
    sent_area = ctx.envelope_text("mdtrtarea_admvs")
    if sent_area is not None and sent_area != ctx.institution.mdtrtarea_admvs:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：mdtrtarea_admvs={sent_area} 与定点医药机构 {ctx.tenant} "
            "的就医地医保区划 "
            f"{ctx.institution.mdtrtarea_admvs} 不符",
            f"mdtrtarea_admvs {sent_area} is not the treatment area "
            f"{ctx.institution.mdtrtarea_admvs} registered for institution {ctx.tenant}",
        )
    if ctx.options.enforce_sign_in and ctx.call.infno not in SIGN_IN_EXEMPT:
        check_signed_in(ctx)
    insured_area = ctx.envelope_text("insuplc_admdvs")
    if insured_area is not None and ctx.call.infno not in NOT_ROUTED_TO_INSURED_PLACE:
        window = down_window(ctx, insured_area)
        if window is not None:
            until = window.end.strftime(DATETIME)
            raise BusinessError(
                "insured_place_offline",
                f"参保地医保系统停机维护，暂不能办理：{insured_area}（{window.reason}），"
                f"预计 {until} 恢复；请在此之后再办理，或按自费结算",
                f"the insured place's system ({insured_area}) is down for maintenance until "
                f"{until}: come back after that, or settle as self-paid",
            )


def down_window(ctx: Context, insuplc_admdvs: str) -> Downtime | None:
    """The downtime window covering this insured area now, if any (the latest-ending one)."""
    covering = [
        window
        for window in ctx.tx.find(Downtime, tenant=ctx.tenant)
        if window.covers(insuplc_admdvs, ctx.now)
    ]
    return max(covering, key=lambda window: window.end, default=None)

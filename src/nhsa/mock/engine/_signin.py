"""9001 签到 / 9002 签退, and the sign-in check every business call passes (reference §5.3).

A ``sign_no`` is valid for the calendar day (China time) it was issued on, until its 9002.
Whether real platforms enforce it varies by province; :class:`EngineOptions` switches the check.

Example::

    answer = sign_in(ctx, Input9001(signIn=Input9001SignIn(opter_no="K01", ip="10.0.0.8")))
    answer.output["signinoutb"]["sign_no"]
"""

from __future__ import annotations

from dataclasses import replace

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._types import Answer
from nhsa.mock.store import SignIn as SignInRecord
from nhsa.models import Input9001, Input9002


def sign_in(ctx: Context, node: Input9001) -> Answer:
    """9001: issue a sign_no for the operator (one per call; earlier ones stay valid)."""
    sign_no = ctx.new_id("sign_no")
    ctx.tx.put(
        SignInRecord(
            ctx.tenant, sign_no, node.signIn.opter_no, ctx.now, node.signIn.mac, node.signIn.ip
        )
    )
    output = {"signinoutb": {"sign_time": ctx.now.strftime(DATETIME), "sign_no": sign_no}}
    return Answer.ok(output, changed=True, effects={"sign_no": sign_no})


def sign_out(ctx: Context, node: Input9002) -> Answer:
    """9002: end a sign-in; its sign_no is refused afterwards."""
    sign_no, opter_no = node.signOut.sign_no, node.signOut.opter_no
    record = ctx.tx.get(SignInRecord, ctx.tenant, sign_no)
    if record is None:
        raise BusinessError(
            "envelope.sign_in_missing",
            f"未签到，请先调用【9001】签到：签到编号 sign_no={sign_no} 不存在，无需签退",
            f"not signed in: sign_no {sign_no} was never issued to this institution",
        )
    if record.opter_no != opter_no:
        raise BusinessError(
            "envelope.sign_in_missing",
            f"签到编号 sign_no={sign_no} 属于操作员 {record.opter_no}，不是 opter_no={opter_no}",
            f"sign_no {sign_no} belongs to operator {record.opter_no}, not {opter_no}",
        )
    if record.signed_out_at is not None:
        raise BusinessError(
            "envelope.sign_in_expired",
            f"签到已失效，请重新调用【9001】签到：sign_no={sign_no} 已于 "
            f"{record.signed_out_at.strftime(DATETIME)} 签退",
            f"sign_no {sign_no} was already signed out at "
            f"{record.signed_out_at.strftime(DATETIME)}",
        )
    ctx.tx.put(replace(record, signed_out_at=ctx.now))
    output = {"signoutoutb": {"sign_time": ctx.now.strftime(DATETIME)}}
    return Answer.ok(output, changed=True, effects={"sign_no": sign_no})


def check_signed_in(ctx: Context) -> None:
    """Refuse a business call without a sign_no of today that is still signed in."""
    sign_no = ctx.envelope_text("sign_no")
    if sign_no is None:
        raise BusinessError(
            "envelope.sign_in_missing",
            "未签到，请先调用【9001】签到：报文 sign_no 为空",
            "not signed in: the envelope has no sign_no; call 9001 and send its sign_no",
        )
    record = ctx.tx.get(SignInRecord, ctx.tenant, sign_no)
    if record is None:
        raise BusinessError(
            "envelope.sign_in_missing",
            f"未签到，请先调用【9001】签到：签到编号 sign_no={sign_no} 不存在",
            f"not signed in: sign_no {sign_no} was never issued to this institution; "
            "call 9001 and send its sign_no",
        )
    if record.signed_out_at is not None:
        raise BusinessError(
            "envelope.sign_in_expired",
            f"签到已失效，请重新调用【9001】签到：sign_no={sign_no} 已于 "
            f"{record.signed_out_at.strftime(DATETIME)} 签退",
            f"sign-in expired: sign_no {sign_no} was signed out; call 9001 again",
        )
    if record.sign_time.date() != ctx.today:
        raise BusinessError(
            "envelope.sign_in_expired",
            f"签到已失效，请重新调用【9001】签到：sign_no={sign_no} 是 "
            f"{record.sign_time.date().isoformat()} 的签到，仅当日有效",
            f"sign-in expired: sign_no {sign_no} is from {record.sign_time.date().isoformat()}; "
            "a sign-in is valid on its own day only — call 9001 again",
        )

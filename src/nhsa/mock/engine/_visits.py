"""The outpatient visit state machine, and the refusals for steps it does not allow.

A visit's state follows from its record, its fee lines and its settlements::

    registered ──2203──▶ info uploaded ──2204──▶ fees uploaded ──2206──▶ pre-settled
        │                                   ▲  │2205                         │2207
        │2202                               │  ▼                             ▼
        ▼                               (lines unsettled again) ◀──2208── settled
    registration cancelled                                              (settlement reversed)

A cancelled visit accepts nothing; a visit with a live settlement cannot be cancelled, have
its settled lines deleted, or its information replaced until the settlement is reversed.

Example::

    visit = open_visit(ctx, mdtrt_id, psn_no)          # refuses unknown / foreign / cancelled
    if live_settlements(ctx, visit): ...
"""

from __future__ import annotations

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.store import CANCELLED, UNSETTLED, Settlement, UploadedFeeLine, Visit


def find_visit(ctx: Context, mdtrt_id: str, psn_no: str) -> Visit:
    """The tenant's visit ``mdtrt_id`` of person ``psn_no`` (cancelled or not)."""
    visit = ctx.tx.get(Visit, ctx.tenant, mdtrt_id)
    if visit is None:
        raise BusinessError(
            "visit_not_found",
            f"就诊信息不存在：mdtrt_id={mdtrt_id}；请使用本机构【2201】挂号返回的就诊ID",
            f"visit not found: mdtrt_id {mdtrt_id} was not issued to this institution by 2201",
        )
    if visit.psn_no != psn_no:
        raise BusinessError(
            "visit_not_found",
            f"就诊信息不存在：mdtrt_id={mdtrt_id} 不属于人员 psn_no={psn_no}",
            f"visit not found: mdtrt_id {mdtrt_id} belongs to another person, not {psn_no}",
        )
    return visit


def open_visit(ctx: Context, mdtrt_id: str, psn_no: str, *, doing: str) -> Visit:
    """A visit that may still change; ``doing`` names the step for the message (e.g. "2204")."""
    visit = find_visit(ctx, mdtrt_id, psn_no)
    if visit.status == CANCELLED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：就诊 mdtrt_id={mdtrt_id} 的挂号已撤销，不能再办理【{doing}】；"
            "请重新挂号(2201)",
            f"the registration of visit {mdtrt_id} was cancelled, so {doing} is not allowed: "
            "register again (2201)",
        )
    same_insured_area(ctx, mdtrt_id, visit.insuplc_admdvs, opened=("挂号", "registration"))
    return visit


def same_insured_area(
    ctx: Context, mdtrt_id: str, insuplc_admdvs: str, *, opened: tuple[str, str]
) -> None:
    """The call names the insured area the visit (stay) was opened for; ``opened`` names the
    step that opened it (zh, en)."""
    sent = ctx.envelope_text("insuplc_admdvs")
    if sent != insuplc_admdvs:
        zh, en = opened
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：insuplc_admdvs={sent} 与就诊 mdtrt_id={mdtrt_id} {zh}时的参保地 "
            f"{insuplc_admdvs} 不符",
            f"insuplc_admdvs is {sent}, but visit {mdtrt_id} was opened at {en} for insured "
            f"area {insuplc_admdvs}: send the same insuplc_admdvs as at {en}",
        )


def live_settlements(ctx: Context, visit: Visit) -> list[Settlement]:
    """The visit's settlements that are in force (not reversal rows, not reversed)."""
    rows = ctx.tx.find(Settlement, tenant=ctx.tenant, mdtrt_id=visit.mdtrt_id)
    return [row for row in rows if row.is_live]


def active_lines(ctx: Context, visit: Visit) -> list[UploadedFeeLine]:
    """The visit's fee lines that were not cancelled (unsettled and settled)."""
    lines = ctx.tx.find(UploadedFeeLine, tenant=ctx.tenant, mdtrt_id=visit.mdtrt_id)
    return [line for line in lines if line.status != CANCELLED]


def unsettled_lines(
    ctx: Context, visit: Visit, chrg_bchno: str | None = None
) -> list[UploadedFeeLine]:
    """Lines waiting for settlement, of one charge batch or (``None``) of the whole visit."""
    return [
        line
        for line in active_lines(ctx, visit)
        if line.status == UNSETTLED and (chrg_bchno is None or line.chrg_bchno == chrg_bchno)
    ]


def refuse_if_settled(ctx: Context, visit: Visit, *, doing_zh: str, doing_en: str) -> None:
    """Refuse a step that a live settlement forbids, naming the settlement to reverse."""
    live = live_settlements(ctx, visit)
    if live:
        ids = ", ".join(row.setl_id for row in live)
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：就诊 mdtrt_id={visit.mdtrt_id} 已结算(setl_id={ids})，"
            f"不能{doing_zh}；请先撤销结算(2208)",
            f"visit {visit.mdtrt_id} is settled (setl_id {ids}), so it cannot {doing_en}: "
            "reverse the settlement (2208) first",
        )

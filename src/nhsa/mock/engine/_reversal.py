"""2601 冲正交易: undo a transaction by its msgid when its outcome is unknown (reference §5.1).

Reversible transactions (simulated): 2207 and 2304 — the settlement is voided, as if it had
never been booked (account, counters and fee lines given back; no row is written, so neither
3201 nor 3202 counts it: ``x-counting`` of 3201; a stay's settlements newest first); 2208 and
2305 — the negative row is voided and the original settlement re-applied; 2401 — the admission
is cancelled, if nothing was done on the stay since. 2102 and 2103 (pharmacy) are reversible on
real platforms but not simulated: refused saying so. Anything else is refused as not
reversible, naming the business transaction that undoes it.

A HIS must always be able to close the loop, so 2601 is idempotent and never fails for
lack of something to undo:

- a second 2601 of the same ``omsgid`` answers success with a note, and changes nothing;
- an ``omsgid`` the platform never received answers success with a note, and leaves a
  tombstone: if the original arrives late it is refused, never booked [our choice];
- an original that failed (infcode -1) needs no reversal: success with a note.

The ``omsgid`` must be one of this institution's msgids (it starts with its code), and the
``psn_no`` must be the original's.

Example::

    answer = reverse_message(ctx, node)   # output {}; warn_msg carries any note
"""

from __future__ import annotations

from dataclasses import replace

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._ledger import restore, void
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._stay_settle import refuse_unless_newest
from nhsa.mock.engine._stays import stay_lines, stay_settlements
from nhsa.mock.engine._types import Answer
from nhsa.mock.store import CANCELLED, DISCHARGED, Message, Settlement, Stay
from nhsa.models import Input2601
from nhsa.spec import UnknownTransactionError, contract

SETTLING = frozenset({"2207", "2304"})
"""Settlements a 2601 voids (no row written: counted by neither side)."""
CANCELLING = frozenset({"2208", "2305"})
"""Settlement cancellations a 2601 undoes, restoring the settlement."""
ADMISSION = "2401"
SIMULATED = SETTLING | CANCELLING | {ADMISSION}
NOT_SIMULATED = frozenset({"2102", "2103"})


def reverse_message(ctx: Context, node: Input2601) -> Answer:
    """2601: undo the transaction ``omsgid``/``oinfno`` of this institution."""
    data = node.data
    omsgid, oinfno = data.omsgid, data.oinfno
    _check_reversible(oinfno)
    if omsgid == ctx.call.msgid:
        raise BusinessError(
            "envelope.validation_failed",
            "报文校验失败：omsgid 不能是本冲正报文自己的 msgid",
            "omsgid must name the original request, not this 2601 itself",
        )
    if not omsgid.startswith(ctx.tenant):
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：omsgid={omsgid} 不是本机构 {ctx.tenant} 发出的报文ID"
            "（报文ID以定点医药机构编号开头），不能冲正其他机构的交易",
            f"omsgid {omsgid} is not a msgid of institution {ctx.tenant} (msgids start with "
            "the institution code): an institution can only reverse its own transactions",
        )
    effects = {"reversed_msgid": omsgid, "oinfno": oinfno}
    original = ctx.tx.get(Message, ctx.tenant, omsgid)
    if original is None:
        ctx.tx.put(
            Message(
                tenant=ctx.tenant,
                msgid=omsgid,
                infno=oinfno,
                received_at=ctx.now,
                infcode=None,
                psn_no=data.psn_no,
                effects={},
                reversed_by=ctx.call.msgid,
                reversed_at=ctx.now,
                tombstone=True,
            )
        )
        note = (
            f"原交易不存在，无需冲正：omsgid={omsgid}；此报文ID此后不再受理 / original not "
            f"found: nothing to reverse; msgid {omsgid} will be refused if it arrives later"
        )
        return Answer.ok(
            {}, changed=True, effects={**effects, "outcome": "not-found"}, warn_msg=note
        )
    _check_original(original, oinfno, data.psn_no)
    if original.reversed_by is not None:
        when = original.reversed_at.strftime(DATETIME) if original.reversed_at else "?"
        note = (
            f"原交易已冲正，无需重复：omsgid={omsgid} 已由 msgid={original.reversed_by} 于 {when} "
            f"冲正 / already reversed by msgid {original.reversed_by} at {when}: nothing to do"
        )
        return Answer.ok({}, effects={**effects, "outcome": "already-reversed"}, warn_msg=note)
    if original.infcode != 0:
        note = (
            f"原交易未成功，无需冲正：omsgid={omsgid} 当时已答复失败 / the original failed "
            "(infcode -1) and changed nothing: nothing to reverse"
        )
        return Answer.ok({}, effects={**effects, "outcome": "original-failed"}, warn_msg=note)
    if oinfno == ADMISSION:
        effects |= _cancel_admission(ctx, original)
        ctx.tx.put(replace(original, reversed_by=ctx.call.msgid, reversed_at=ctx.now))
        return Answer.ok({}, changed=True, effects={**effects, "outcome": "reversed"})
    setl_id = original.effects.get("setl_id", "")
    row = ctx.tx.get(Settlement, ctx.tenant, setl_id)
    if row is None:  # pragma: no cover - a successful settlement always recorded its row
        raise RuntimeError(f"msgid {omsgid} recorded setl_id {setl_id!r}, which is not stored")
    person = ctx.person(row.psn_no)
    if oinfno in SETTLING:
        if row.reversed_by is not None:
            note = (
                f"结算已撤销，无需冲正：setl_id={row.setl_id} 已由退费记录 "
                f"{row.reversed_by} 撤销 / "
                f"settlement {row.setl_id} was already reversed (row {row.reversed_by})"
            )
            return Answer.ok({}, effects={**effects, "outcome": "already-cancelled"}, warn_msg=note)
        stay = ctx.tx.get(Stay, ctx.tenant, row.mdtrt_id)
        if stay is not None:
            refuse_unless_newest(ctx, stay, row, doing="2601")
        void(ctx, row, person=person)
        effects |= {"voided_setl_id": row.setl_id}
    else:
        restored = restore(ctx, row, person=person)
        effects |= {"voided_setl_id": row.setl_id, "restored_setl_id": restored.setl_id}
    ctx.tx.put(replace(original, reversed_by=ctx.call.msgid, reversed_at=ctx.now))
    return Answer.ok({}, changed=True, effects={**effects, "outcome": "reversed"})


def _check_reversible(oinfno: str) -> None:
    if oinfno in SIMULATED:
        return
    if oinfno in NOT_SIMULATED:
        raise BusinessError(
            "not_reversible",
            f"该交易不支持冲正：{oinfno} 的冲正（药店）本模拟平台尚未实现；"
            "本平台模拟 2207、2208、2304、2305、2401 的冲正",
            f"reversal of {oinfno} (pharmacy) is not simulated by this mock platform: 2207, "
            "2208, 2304, 2305 and 2401 are",
        )
    try:
        undone_by = contract().transaction(oinfno).undone_by
    except UnknownTransactionError:
        undone_by = None
    hint_zh = f"请用【{undone_by}】撤销" if undone_by else "该交易无需冲正"
    hint_en = f"undo it with {undone_by}" if undone_by else "it needs no reversal"
    raise BusinessError(
        "not_reversible",
        f"该交易不支持冲正：{oinfno}；可冲正交易为 2207、2208、2304、2305、2401；{hint_zh}",
        f"{oinfno} cannot be reversed with 2601 (reversible: 2207, 2208, 2304, 2305, 2401): "
        f"{hint_en}",
    )


def _cancel_admission(ctx: Context, original: Message) -> dict[str, str]:
    """Undo a 2401: cancel the stay, unless something was done on it since (then refuse)."""
    mdtrt_id = original.effects.get("mdtrt_id", "")
    stay = ctx.tx.get(Stay, ctx.tenant, mdtrt_id)
    if stay is None:  # pragma: no cover - a successful 2401 always recorded its stay
        raise RuntimeError(f"msgid {original.msgid} recorded mdtrt_id {mdtrt_id!r}, not stored")
    if stay.status == CANCELLED:
        return {"mdtrt_id": mdtrt_id, "note": "the admission was already cancelled (2404)"}
    if stay_lines(ctx, stay) or stay_settlements(ctx, stay) or stay.status == DISCHARGED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={mdtrt_id} 入院后已上传费用、结算或出院，"
            "不能冲正入院；请按撤销顺序办理：2305、2405、2302、2404",
            f"stay {mdtrt_id} has fees, settlements or a discharge since its admission, so the "
            "admission cannot be reversed: undo in order 2305, 2405, 2302, 2404",
        )
    ctx.tx.put(replace(stay, status=CANCELLED, cancelled_at=ctx.now))
    return {"mdtrt_id": mdtrt_id}


def _check_original(original: Message, oinfno: str, psn_no: str) -> None:
    if original.infno != oinfno:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：oinfno={oinfno} 与原交易 {original.msgid} 的交易编号 "
            f"{original.infno} 不符",
            f"oinfno {oinfno} does not match the original {original.msgid}, which was "
            f"{original.infno}",
        )
    if original.psn_no is not None and original.psn_no != psn_no:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：psn_no={psn_no} 与原交易 {original.msgid} 的人员编号不符",
            f"psn_no {psn_no} is not the person of the original transaction {original.msgid}",
        )

"""Reading the mock's transcript: one record per request the platform saw (format in README).

The checks judge the HIS from these records only (plus the driver's results), so the helpers
here are the suite's single way to read them: which transaction, which visit and person,
whether the answer reached the HIS intact, and — replayed in order — which settlements the
platform holds and which fee lines were uploaded, as the platform saw them.

A record's ``state_changed`` says whether the platform committed something; ``delivered``
and ``fault`` say whether the HIS got a trustworthy answer. A settlement committed under a
commit-then-drop fault therefore counts in the platform's ledger although the HIS never
heard of it — exactly the case the reversal rules are about.

Example:
    >>> r = {"seq": 3, "infno": "2207", "delivered": False, "infcode": 0,
    ...      "fault": {"id": "f-1", "kind": "commit-then-drop"},
    ...      "request": {"input": {"data": {"mdtrt_id": "M1", "psn_no": "P1"}}}}
    >>> infno_of(r), mdtrt_id_of(r), answer_trusted(r)
    ('2207', 'M1', False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from nhsa.conformance._mock_handle import UNTRUSTED_ANSWER_FAULTS
from nhsa.conformance._money import amount

__all__ = [
    "FeeLineTrace",
    "Record",
    "SettlementTrace",
    "answer_trusted",
    "data_of",
    "definite_failure",
    "fault_kind",
    "fee_lines_for_batch",
    "infno_of",
    "input_of",
    "mdtrt_id_of",
    "output_of",
    "psn_no_of",
    "request_of",
    "seq_of",
    "settlements",
    "state_changed",
]

Record = Mapping[str, Any]

SESSION_INFNOS: Final = frozenset({"9001", "9002"})
"""Sign-in and sign-out: the calls that do not need a prior sign-in."""

_FAULT_ALIASES: Final = {
    "http-error": "http-5xx",
    "insured-place-unreachable": "network-failure",
    "5xx": "http-5xx",
    "http5xx": "http-5xx",
    "http-500": "http-5xx",
    "garbled": "garbled-body",
    "empty": "empty-body",
    "connection-reset": "reset",
    "bad-response-signature": "bad-signature",
    "insured-place-downtime": "downtime",
    "insured-place-network-failure": "network-failure",
}


def seq_of(record: Record) -> int:
    """The record's sequence number (0 when missing).

    Example:
        >>> seq_of({"seq": 17}), seq_of({})
        (17, 0)
    """
    value = record.get("seq")
    return value if isinstance(value, int) else 0


def request_of(record: Record) -> Mapping[str, Any]:
    """The parsed request envelope, or ``{}`` when the body was not a JSON object.

    Example:
        >>> request_of({"request": None})
        {}
    """
    request = record.get("request")
    return request if isinstance(request, Mapping) else {}


def infno_of(record: Record) -> str | None:
    """The transaction code: the record's ``infno``, else the request's.

    Example:
        >>> infno_of({"request": {"infno": "2207"}})
        '2207'
    """
    value = record.get("infno") or request_of(record).get("infno")
    return value if isinstance(value, str) else None


def input_of(record: Record) -> Mapping[str, Any]:
    """The request's ``input`` object, or ``{}``.

    Example:
        >>> input_of({"request": {"input": {"data": {}}}})
        {'data': {}}
    """
    value = request_of(record).get("input")
    return value if isinstance(value, Mapping) else {}


def data_of(record: Record) -> Mapping[str, Any]:
    """The request's ``input.data`` node (most transactions), or ``{}``.

    Example:
        >>> data_of({"request": {"input": {"data": {"psn_no": "P1"}}}})
        {'psn_no': 'P1'}
    """
    value = input_of(record).get("data")
    return value if isinstance(value, Mapping) else {}


def output_of(record: Record) -> Mapping[str, Any]:
    """The answer's ``output`` object (as sent, or as it would have been sent), or ``{}``.

    Example:
        >>> output_of({"response": {"output": {"stmtinfo": {}}}})
        {'stmtinfo': {}}
    """
    response = record.get("response")
    if not isinstance(response, Mapping):
        return {}
    value = response.get("output")
    return value if isinstance(value, Mapping) else {}


def _nodes(record: Record) -> Iterable[Mapping[str, Any]]:
    """Every object node of the input, in the spec's order of importance."""
    inp = input_of(record)
    for name in ("data", "mdtrtinfo", "signIn", "signOut", "dscginfo"):
        node = inp.get(name)
        if isinstance(node, Mapping):
            yield node
        elif isinstance(node, list):
            yield from (n for n in node if isinstance(n, Mapping))
    for name in ("feedetail", "diseinfo"):
        rows = inp.get(name)
        if isinstance(rows, list):
            yield from (row for row in rows if isinstance(row, Mapping))


def _first(record: Record, key: str) -> str | None:
    for node in _nodes(record):
        value = node.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def psn_no_of(record: Record) -> str | None:
    """The person the request is about (``psn_no`` in any input node), or ``None``.

    Example:
        >>> psn_no_of({"request": {"input": {"feedetail": [{"psn_no": "P1"}]}}})
        'P1'
    """
    return _first(record, "psn_no")


def mdtrt_id_of(record: Record) -> str | None:
    """The visit the request is about (``mdtrt_id`` in any input node), or ``None``.

    For a 2201 (which creates the visit) this is the id the platform answered with.

    Example:
        >>> mdtrt_id_of({"infno": "2201", "response": {"output": {"data": {"mdtrt_id": "M9"}}}})
        'M9'
    """
    if infno_of(record) == "2201":
        node = output_of(record).get("data")
        value = node.get("mdtrt_id") if isinstance(node, Mapping) else None
        return value if isinstance(value, str) else None
    return _first(record, "mdtrt_id")


def fault_kind(record: Record) -> str | None:
    """The kind of fault applied to this request, in the suite's names, or ``None``.

    Example:
        >>> fault_kind({"fault": {"id": "f-1", "kind": "http-error"}})
        'http-5xx'
    """
    fault = record.get("fault")
    if not isinstance(fault, Mapping):
        return None
    kind = str(fault.get("kind") or "").strip().lower().replace("_", "-")
    return _FAULT_ALIASES.get(kind, kind) or None


def state_changed(record: Record) -> bool:
    """Whether the platform committed a change for this request.

    Records written before the mock carried ``state_changed`` fall back to ``infcode == 0``
    for transactions the contract marks as writes.

    Example:
        >>> state_changed({"state_changed": True}), state_changed({"infcode": -1})
        (True, False)
    """
    value = record.get("state_changed")
    if isinstance(value, bool):
        return value
    return record.get("infcode") == 0


def answer_trusted(record: Record) -> bool:
    """Whether the HIS received this answer intact (delivered, no fault that spoils it).

    Example:
        >>> answer_trusted({"delivered": True, "fault": {"kind": "bad-signature"}})
        False
    """
    if record.get("delivered") is False:
        return False
    return fault_kind(record) not in UNTRUSTED_ANSWER_FAULTS


def definite_failure(record: Record) -> bool:
    """An intact answer with infcode -1: the platform definitely refused the request.

    Example:
        >>> definite_failure({"delivered": True, "infcode": -1})
        True
    """
    return answer_trusted(record) and record.get("infcode") == -1


def sign_no_issued(record: Record) -> str | None:
    """The sign_no a 9001 answer issued, when it reached the HIS intact.

    Example:
        >>> sign_no_issued({"infno": "9001", "infcode": 0, "delivered": True,
        ...                 "response": {"output": {"signinoutb": {"sign_no": "S1"}}}})
        'S1'
    """
    if infno_of(record) != "9001" or record.get("infcode") != 0 or not answer_trusted(record):
        return None
    node = output_of(record).get("signinoutb")
    value = node.get("sign_no") if isinstance(node, Mapping) else None
    return value if isinstance(value, str) and value else None


@dataclass
class SettlementTrace:
    """A settlement the platform committed (a 2207 with ``state_changed``), and its fate.

    Example:
        >>> t = SettlementTrace(msgid="m", seq=4, setl_id="S1", mdtrt_id="M1", psn_no="P1",
        ...                     chrg_bchno="B1", setlinfo={}, answer_trusted=True)
        >>> t.live
        True
    """

    msgid: str
    seq: int
    setl_id: str | None
    mdtrt_id: str | None
    psn_no: str | None
    chrg_bchno: str | None
    setlinfo: Mapping[str, Any]
    answer_trusted: bool
    reversed_at: int | None = None
    history: list[int] = field(default_factory=list)

    @property
    def live(self) -> bool:
        """Whether the settlement stands (was never reversed, or its reversal was undone)."""
        return self.reversed_at is None

    def amount(self, name: str) -> Decimal | None:
        """An amount of the committed settlement (``medfee_sumamt``…), or ``None``."""
        value = self.setlinfo.get(name)
        if value is None:
            return None
        try:
            return amount(value)
        except ValueError:
            return None


def settlements(
    records: Sequence[Record], *, until_seq: int | None = None
) -> list[SettlementTrace]:
    """Replay the records (up to ``until_seq``) into the settlements the platform holds.

    2207 creates; 2208 (by ``setl_id``) and 2601 with ``oinfno`` 2207 (by ``omsgid``)
    reverse; 2601 with ``oinfno`` 2208 undoes a 2208 and so restores its settlement.

    Example:
        >>> recs = [
        ...   {"seq": 1, "infno": "2207", "msgid": "m1", "state_changed": True, "infcode": 0,
        ...    "request": {"input": {"data": {"mdtrt_id": "M1"}}},
        ...    "response": {"output": {"setlinfo": {"setl_id": "S1"}}}},
        ...   {"seq": 2, "infno": "2601", "msgid": "m2", "state_changed": True, "infcode": 0,
        ...    "request": {"input": {"data": {"omsgid": "m1", "oinfno": "2207"}}}}]
        >>> [(t.setl_id, t.live) for t in settlements(recs)]
        [('S1', False)]
    """
    traces: list[SettlementTrace] = []
    reversed_by_2208: dict[str, SettlementTrace] = {}
    for record in records:
        seq = seq_of(record)
        if until_seq is not None and seq > until_seq:
            break
        infno = infno_of(record)
        if not state_changed(record) or infno not in ("2207", "2208", "2601"):
            continue
        data = data_of(record)
        if infno == "2207":
            traces.append(_new_trace(record, seq))
        elif infno == "2208":
            target = _find(traces, setl_id=data.get("setl_id"))
            if target is not None:
                target.reversed_at = seq
                target.history.append(seq)
                reversed_by_2208[str(record.get("msgid"))] = target
        elif data.get("oinfno") == "2207":
            target = _find(traces, msgid=data.get("omsgid"))
            if target is not None and target.live:
                target.reversed_at = seq
                target.history.append(seq)
        elif data.get("oinfno") == "2208":
            restored = reversed_by_2208.pop(str(data.get("omsgid")), None)
            if restored is not None:
                restored.reversed_at = None
                restored.history.append(seq)
    return traces


def _new_trace(record: Record, seq: int) -> SettlementTrace:
    data = data_of(record)
    setlinfo = output_of(record).get("setlinfo")
    info: Mapping[str, Any] = setlinfo if isinstance(setlinfo, Mapping) else {}
    effects = record.get("effects")
    setl_id = info.get("setl_id") or (
        effects.get("setl_id") if isinstance(effects, Mapping) else None
    )
    return SettlementTrace(
        msgid=str(record.get("msgid") or request_of(record).get("msgid") or ""),
        seq=seq,
        setl_id=str(setl_id) if setl_id else None,
        mdtrt_id=_text(data.get("mdtrt_id")),
        psn_no=_text(data.get("psn_no")),
        chrg_bchno=_text(data.get("chrg_bchno")),
        setlinfo=info,
        answer_trusted=answer_trusted(record),
        history=[seq],
    )


def _find(
    traces: list[SettlementTrace], *, setl_id: object = None, msgid: object = None
) -> SettlementTrace | None:
    for trace in reversed(traces):
        if setl_id is not None and trace.setl_id == setl_id:
            return trace
        if msgid is not None and trace.msgid == msgid:
            return trace
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class FeeLineTrace:
    """A fee line the platform accepted (2204) and still holds when a batch is settled.

    Example::

        lines = fee_lines_for_batch(records, "M1", "B1", before_seq=9)
        [line.det_item_fee_sumamt for line in lines]
    """

    seq: int
    feedetl_sn: str
    chrg_bchno: str
    det_item_fee_sumamt: Decimal
    cnt: Decimal | None
    pric: Decimal | None


def fee_lines_for_batch(
    records: Sequence[Record], mdtrt_id: str, chrg_bchno: str, *, before_seq: int
) -> list[FeeLineTrace]:
    """The lines of batch ``chrg_bchno`` of a visit the platform held just before ``before_seq``.

    2204 answers with infcode 0 add lines (a repeated ``feedetl_sn`` replaces the earlier
    one); 2205 answers with infcode 0 remove the batch's unsettled lines (``"0000"``: every
    unsettled batch). A batch is settled while a live 2207 of it stands.

    Example:
        >>> up = {"seq": 1, "infno": "2204", "infcode": 0, "state_changed": True, "request":
        ...       {"input": {"feedetail": [{"mdtrt_id": "M1", "chrg_bchno": "B1",
        ...        "feedetl_sn": "1", "det_item_fee_sumamt": 25.1, "cnt": 1, "pric": 25.1}]}}}
        >>> [line.det_item_fee_sumamt for line in fee_lines_for_batch([up], "M1", "B1",
        ...                                                         before_seq=9)]
        [Decimal('25.10')]
    """
    lines: dict[str, FeeLineTrace] = {}
    earlier = [r for r in records if seq_of(r) < before_seq]
    for record in earlier:
        infno = infno_of(record)
        if not state_changed(record):
            continue
        if infno == "2204":
            _add_lines(record, mdtrt_id, chrg_bchno, lines)
        elif infno == "2205":
            data = data_of(record)
            batch = data.get("chrg_bchno")
            if data.get("mdtrt_id") != mdtrt_id or batch not in (chrg_bchno, "0000"):
                continue
            if not _batch_settled(earlier, mdtrt_id, chrg_bchno, seq_of(record)):
                lines.clear()
    return sorted(lines.values(), key=lambda line: (line.seq, line.feedetl_sn))


def _add_lines(
    record: Record, mdtrt_id: str, chrg_bchno: str, lines: dict[str, FeeLineTrace]
) -> None:
    rows = input_of(record).get("feedetail")
    if not isinstance(rows, list):
        return
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        if row.get("mdtrt_id") != mdtrt_id or row.get("chrg_bchno") != chrg_bchno:
            continue
        try:
            total = amount(row.get("det_item_fee_sumamt"))
        except ValueError:
            continue
        sn = str(row.get("feedetl_sn"))
        lines[sn] = FeeLineTrace(
            seq=seq_of(record),
            feedetl_sn=sn,
            chrg_bchno=chrg_bchno,
            det_item_fee_sumamt=total,
            cnt=_decimal(row.get("cnt")),
            pric=_decimal(row.get("pric")),
        )


def _batch_settled(records: Sequence[Record], mdtrt_id: str, chrg_bchno: str, at: int) -> bool:
    return any(
        t.live and t.mdtrt_id == mdtrt_id and t.chrg_bchno == chrg_bchno
        for t in settlements(records, until_seq=at)
    )


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None

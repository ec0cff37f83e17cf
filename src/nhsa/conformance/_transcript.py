"""The mock's transcript as the suite reads it: one typed record per request the platform saw.

The checks judge the HIS from these records only (plus the driver's results). Each record the
mock serves is parsed once, as the runner reads it, into a :class:`TranscriptRecord` — the
shape of ``conformance/transcript-record.schema.json`` (version 1.x, kept equal to it by
``tests/conformance/test_transcript_record.py``) — and checks read its attributes: the members
the mock writes, and what the suite derives from them once (the request's ``input`` and the
answer's ``output``, the person and visit a request is about, whether its answer can be
trusted). Replayed in order, records also say which settlements the platform holds
(:func:`settlements`) and which fee lines it held for a batch (:func:`fee_lines_for_batch`).

A record keeps the request as received and the answer as sent, in the institution's province
dialect (``dialect``, version 1.1); the derived views (``envelope``, ``input``, ``output``…)
are in the national shape — the dialect translated back once, with the same functions the
mock and the SDK use — so every check reads one shape whatever the province.

A record's ``state_changed`` says whether the platform committed something; ``delivered``
and ``fault`` say whether the HIS got a trustworthy answer. A settlement committed under a
commit-then-drop fault therefore counts in the platform's ledger although the HIS never
heard of it — exactly the case the reversal rules are about.

Example::

    for record in ctx.records:                   # TranscriptRecord, oldest first
        if record.infno == "2207" and not record.answer_trusted:
            print(record.seq, record.mdtrt_id, record.fault_kind)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError

from nhsa.conformance._errors import MockError
from nhsa.conformance._money import amount
from nhsa.envelope import decode_answer, decode_request
from nhsa.mock.faults import FaultKind, Origin, Stage
from nhsa.mock.transcript import Route
from nhsa.spec import Dialect, DialectError, dialect

if TYPE_CHECKING:
    from nhsa.conformance._mock_handle import MockHandle

__all__ = [
    "SESSION_INFNOS",
    "UNTRUSTED_ANSWER_FAULTS",
    "AppliedFaultRecord",
    "ContractIssue",
    "DialectCheck",
    "FeeLineTrace",
    "GatewayCheck",
    "RecordedHeaders",
    "SettlementTrace",
    "SignatureCheck",
    "TranscriptFeed",
    "TranscriptRecord",
    "TranscriptRecordError",
    "fee_lines_for_batch",
    "parse_record",
    "parse_records",
    "settlements",
]

READ_MAJOR: Final = "1"
"""The major ``schema_version`` this reader understands (any minor of it)."""

LEGACY_VERSION: Final = "1.0"
"""How a record written before versions existed (no ``schema_version``) is read."""

SESSION_INFNOS: Final = frozenset({"9001", "9002"})
"""Sign-in and sign-out: the calls that do not need a prior sign-in."""

UNTRUSTED_ANSWER_FAULTS: Final = frozenset(
    {
        FaultKind.HANG,
        FaultKind.RESET,
        FaultKind.HTTP_ERROR,
        FaultKind.EMPTY_BODY,
        FaultKind.GARBLED_BODY,
        FaultKind.BAD_SIGNATURE,
        FaultKind.COMMIT_THEN_DROP,
    }
)
"""Faults after which the HIS cannot trust (or did not get) the answer: the outcome is unknown."""

_INPUT_NODES: Final = ("data", "mdtrtinfo", "signIn", "signOut", "dscginfo")
_INPUT_ROWS: Final = ("feedetail", "diseinfo")
_CREATED_BY: Final = {"2201": "data", "2401": "result"}
"""Transactions that create the visit (stay) they answer, and the output node naming it."""


def _iso_time(value: object) -> object:
    """An ISO 8601 text as a datetime (the schema's ``date-time``); other values are refused."""
    if not isinstance(value, str):
        raise ValueError(f"an ISO 8601 date-time text, not {type(value).__name__}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment


Timestamp = Annotated[datetime, BeforeValidator(_iso_time)]
Kind = Annotated[FaultKind, Strict(False)]  # the JSON text of a FaultKind


class _Member(BaseModel):
    """Strict in types (as the schema), tolerant of members a later minor version adds."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")


class RecordedHeaders(_Member):
    """The request headers the record keeps (``None`` when the request had none)."""

    x_tif_paasid: str | None = Field(alias="x-tif-paasid")
    x_tif_timestamp: str | None = Field(alias="x-tif-timestamp")
    x_tif_nonce: str | None = Field(alias="x-tif-nonce")
    x_tif_signature: str | None = Field(alias="x-tif-signature")
    x_mock_fault: str | None = Field(alias="x-mock-fault")
    content_type: str | None = Field(alias="content-type")
    api_name: str | None = Field(default=None, alias="_api_name")
    api_version: str | None = Field(default=None, alias="_api_version")
    api_access_key: str | None = Field(default=None, alias="_api_access_key")
    api_timestamp: str | None = Field(default=None, alias="_api_timestamp")
    api_signature: str | None = Field(default=None, alias="_api_signature")


class GatewayCheck(_Member):
    """The gateway check: ``ok`` is false when the gateway refused the request; ``family``
    (1.1) says which gateway (``tif``, ``csb``, ``bearer``)."""

    scheme: Literal["none", "tif"]
    ok: bool
    error: str | None
    family: Literal["tif", "csb", "bearer"] | None = None


class DialectCheck(_Member):
    """The province dialect the institution speaks, and whether the request was in it."""

    name: str
    ok: bool
    error: str | None


class SignatureCheck(_Member):
    """The SM2 message signature check (``ok`` ``None``: not checked)."""

    present: bool
    ok: bool | None
    key_id: str | None
    error: str | None


class ContractIssue(_Member):
    """One way the request broke the contract (JSON pointer, rule, message)."""

    pointer: str
    rule: str
    message: str


class AppliedFaultRecord(_Member):
    """The armed fault that acted on the request, in the mock's vocabulary."""

    id: str
    kind: Kind
    stage: Stage
    armed_by: Origin
    ms: int | None = None
    status: int | None = None
    mode: str | None = None
    area: str | None = None
    after_commit: bool = False


class TranscriptRecord(_Member):
    """One transcript record, typed (members: ``conformance/transcript-record.schema.json``).

    Besides the members, the attributes below are derived once from them: the request
    envelope and its ``input``/``data`` nodes, the answer's ``output``, the person, visit and
    batch a request is about, and whether its answer reached the HIS intact.

    Example::

        refused = [r for r in ctx.records if r.definite_failure]
        visits = {r.mdtrt_id for r in ctx.records_of("2201") if r.definite_success}
    """

    schema_version: str = Field(pattern=r"^1\.[0-9]+$")
    seq: int = Field(ge=1)
    tenant: str = Field(min_length=1)
    received_at: Timestamp
    answered_at: Timestamp
    route: Route
    path: str
    headers: RecordedHeaders
    infno: str | None
    msgid: str | None
    opter_type: str | None
    opter: str | None
    sign_no: str | None
    insuplc_admdvs: str | None
    request: Any
    request_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    gateway: GatewayCheck
    signature: SignatureCheck
    validation: list[ContractIssue]
    infcode: int | None
    err_msg: str | None
    response: dict[str, Any] | None
    fault: AppliedFaultRecord | None
    delivered: bool
    state_changed: bool
    effects: dict[str, str]
    error_id: str | None
    dialect: DialectCheck | None

    # -- what the request and the answer say --------------------------------------------------

    @cached_property
    def spoken(self) -> Dialect:
        """The dialect the record is in (national for records without one)."""
        try:
            return dialect(self.dialect.name if self.dialect is not None else None)
        except DialectError:
            return dialect()  # a dialect this suite does not know: read the contract's names

    @cached_property
    def envelope(self) -> Mapping[str, Any]:
        """The request envelope as the HIS sent it, in the national shape (its dialect read
        back), or ``{}`` when the body was no JSON object."""
        if not isinstance(self.request, Mapping):
            return {}
        return decode_request(self.spoken, self.request)[0]

    @cached_property
    def input(self) -> Mapping[str, Any]:
        """The request's ``input`` object, or ``{}``."""
        return _mapping(self.envelope.get("input"))

    @cached_property
    def data(self) -> Mapping[str, Any]:
        """The request's ``input.data`` node (most transactions), or ``{}``."""
        return _mapping(self.input.get("data"))

    @cached_property
    def answer(self) -> Mapping[str, Any]:
        """The answer envelope (as sent, or as it would have been) in the national shape."""
        if self.response is None:
            return {}
        return decode_answer(self.spoken, self.infno or "", self.response)[0]

    @cached_property
    def output(self) -> Mapping[str, Any]:
        """The answer's ``output`` (as sent, or as it would have been sent), or ``{}``."""
        return _mapping(self.answer.get("output"))

    def output_node(self, name: str) -> Mapping[str, Any]:
        """An object node of the answer's ``output`` (``setlinfo``, ``stmtinfo``…), or ``{}``."""
        return _mapping(self.output.get(name))

    @cached_property
    def psn_no(self) -> str | None:
        """The person the request is about (``psn_no`` in any input node), or ``None``."""
        return self._first("psn_no")

    @cached_property
    def mdtrt_id(self) -> str | None:
        """The visit or stay the request is about; for a 2201 or 2401 (which create it) the
        answered id."""
        created = _CREATED_BY.get(self.infno or "")
        if created is not None:
            answered = self.output_node(created).get("mdtrt_id")
            return answered if isinstance(answered, str) else None
        return self._first("mdtrt_id")

    @cached_property
    def chrg_bchno(self) -> str | None:
        """The charge batch the request names in ``data`` (2205, 2206, 2207), or ``None``."""
        return _text(self.data.get("chrg_bchno"))

    # -- what the HIS could know ----------------------------------------------------------------

    @cached_property
    def fault_kind(self) -> FaultKind | None:
        """The kind of fault applied to this request, or ``None``."""
        return self.fault.kind if self.fault is not None else None

    @cached_property
    def answer_trusted(self) -> bool:
        """Whether the HIS received this answer intact (delivered, no fault that spoils it)."""
        return self.delivered and self.fault_kind not in UNTRUSTED_ANSWER_FAULTS

    @cached_property
    def definite_success(self) -> bool:
        """An intact answer with infcode 0."""
        return self.answer_trusted and self.infcode == 0

    @cached_property
    def definite_failure(self) -> bool:
        """An intact answer with infcode -1: the platform definitely refused the request."""
        return self.answer_trusted and self.infcode == -1

    @cached_property
    def sign_no_issued(self) -> str | None:
        """The sign_no a 9001 answer issued, when it reached the HIS intact."""
        if self.infno != "9001" or not self.definite_success:
            return None
        return _text(self.output_node("signinoutb").get("sign_no"))

    def _first(self, key: str) -> str | None:
        for node in self._nodes():
            value = _text(node.get(key))
            if value is not None:
                return value
        return None

    def _nodes(self) -> Iterator[Mapping[str, Any]]:
        """Every object node of the input, in the spec's order of importance."""
        for name in _INPUT_NODES:
            node = self.input.get(name)
            if isinstance(node, Mapping):
                yield node
            elif isinstance(node, list):
                yield from (n for n in node if isinstance(n, Mapping))
        for name in _INPUT_ROWS:
            rows = self.input.get(name)
            if isinstance(rows, list):
                yield from (row for row in rows if isinstance(row, Mapping))


class TranscriptRecordError(MockError):
    """A record the mock served that this suite cannot read (names its seq and the member)."""


def parse_record(raw: Mapping[str, Any]) -> TranscriptRecord:
    """One record as the mock served it, typed; :class:`TranscriptRecordError` if it is not one.

    A record without ``schema_version`` was written before versions existed: it is read as
    version 1.0 with ``error_id`` ``None`` (the member added later). A 1.0 record has no
    ``dialect`` (added in 1.1): it is read as ``None``, the national contract. A record of
    another major version is refused, naming it.

    Example:
        >>> try:
        ...     parse_record({"seq": 4, "schema_version": "2.0"})
        ... except TranscriptRecordError as error:
        ...     print(error)
        transcript record 4: schema_version 2.0 is not 1.x, the version this suite reads
    """
    version = raw.get("schema_version")
    if version is None:
        raw = {"error_id": None, **raw, "schema_version": LEGACY_VERSION}
    if raw.get("schema_version") == LEGACY_VERSION:
        raw = {"dialect": None, **raw}
    elif not (isinstance(version, str) and version.partition(".")[0] == READ_MAJOR):
        raise TranscriptRecordError(
            f"transcript record {raw.get('seq')}: schema_version {version} is not "
            f"{READ_MAJOR}.x, the version this suite reads"
        )
    try:
        return TranscriptRecord.model_validate(raw)
    except ValidationError as invalid:
        problems = "; ".join(
            f"/{'/'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in invalid.errors(include_url=False)[:3]
        )
        raise TranscriptRecordError(
            f"transcript record {raw.get('seq')} does not match "
            f"conformance/transcript-record.schema.json: {problems}"
        ) from None


def parse_records(raw: Iterable[Mapping[str, Any]]) -> list[TranscriptRecord]:
    """Every record of ``raw``, typed (see :func:`parse_record`).

    Example:
        >>> parse_records([])
        []
    """
    return [parse_record(record) for record in raw]


class TranscriptFeed:
    """One tenant's transcript, read from the mock as it grows; each record parsed once.

    Args:
        mock: the mock handle to read from.
        tenant: the institution whose records to read.
        since: the last ``seq`` already seen (records up to it are skipped).

    Example::

        feed = TranscriptFeed(mock, "H53010112345")
        fresh = feed.read()          # the records that arrived since the last read
        feed.records                 # every record read so far, oldest first
    """

    def __init__(self, mock: MockHandle, tenant: str, since: int = 0) -> None:
        """Start after ``since``; nothing is read yet."""
        self.mock = mock
        self.tenant = tenant
        self.last_seq = since
        self.records: list[TranscriptRecord] = []

    def read(self) -> list[TranscriptRecord]:
        """The records that arrived since the last read; raises :class:`MockError`."""
        since = self.last_seq
        fresh = [
            r for r in parse_records(self.mock.transcript(self.tenant, since)) if r.seq > since
        ]
        if fresh:
            self.last_seq = fresh[-1].seq
            self.records.extend(fresh)
        return fresh


# -- the platform's ledger, replayed ------------------------------------------------------------


@dataclass
class SettlementTrace:
    """A settlement the platform committed (a 2207 or 2304 with ``state_changed``), and its fate.

    ``chrg_bchno`` is what one settlement may stand for at a time: the charge batch of a 2207;
    ``"final"`` for a stay's final 2304 (one per stay); ``None`` for a mid-way 2304 (a stay may
    hold several).

    Example:
        >>> t = SettlementTrace(msgid="m", seq=4, setl_id="S1", mdtrt_id="M1", psn_no="P1",
        ...                     chrg_bchno="B1", setlinfo={"medfee_sumamt": 25.1},
        ...                     answer_trusted=True)
        >>> t.live, t.amount("medfee_sumamt")
        (True, Decimal('25.10'))
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


_SETTLING: Final = frozenset({"2207", "2304"})
_CANCELLING: Final = frozenset({"2208", "2305"})


def settlements(
    records: Sequence[TranscriptRecord], *, until_seq: int | None = None
) -> list[SettlementTrace]:
    """Replay the records (up to ``until_seq``) into the settlements the platform holds.

    2207 and 2304 create; 2208 and 2305 (by ``setl_id``) and 2601 with ``oinfno`` 2207 or
    2304 (by ``omsgid``) reverse; 2601 with ``oinfno`` 2208 or 2305 undoes the cancellation and
    so restores its settlement.

    Example::

        standing = [t.setl_id for t in settlements(ctx.records) if t.live]
    """
    traces: list[SettlementTrace] = []
    reversed_by_cancel: dict[str, SettlementTrace] = {}
    for record in records:
        seq = record.seq
        if until_seq is not None and seq > until_seq:
            break
        infno = record.infno
        if not record.state_changed or infno not in (*_SETTLING, *_CANCELLING, "2601"):
            continue
        data = record.data
        if infno in _SETTLING:
            traces.append(_new_trace(record))
        elif infno in _CANCELLING:
            target = _find(traces, setl_id=data.get("setl_id"))
            if target is not None:
                target.reversed_at = seq
                target.history.append(seq)
                reversed_by_cancel[str(record.msgid)] = target
        elif data.get("oinfno") in _SETTLING:
            target = _find(traces, msgid=data.get("omsgid"))
            if target is not None and target.live:
                target.reversed_at = seq
                target.history.append(seq)
        elif data.get("oinfno") in _CANCELLING:
            restored = reversed_by_cancel.pop(str(data.get("omsgid")), None)
            if restored is not None:
                restored.reversed_at = None
                restored.history.append(seq)
    return traces


def _new_trace(record: TranscriptRecord) -> SettlementTrace:
    info = record.output_node("setlinfo")
    setl_id = info.get("setl_id") or record.effects.get("setl_id")
    return SettlementTrace(
        msgid=record.msgid or "",
        seq=record.seq,
        setl_id=str(setl_id) if setl_id else None,
        mdtrt_id=_text(record.data.get("mdtrt_id")),
        psn_no=_text(record.data.get("psn_no")),
        chrg_bchno=_settles(record),
        setlinfo=info,
        answer_trusted=record.answer_trusted,
        history=[record.seq],
    )


def _settles(record: TranscriptRecord) -> str | None:
    if record.infno != "2304":
        return record.chrg_bchno
    return "final" if record.data.get("mid_setl_flag") == "0" else None


def _find(
    traces: list[SettlementTrace], *, setl_id: object = None, msgid: object = None
) -> SettlementTrace | None:
    for trace in reversed(traces):
        if setl_id is not None and trace.setl_id == setl_id:
            return trace
        if msgid is not None and trace.msgid == msgid:
            return trace
    return None


@dataclass(frozen=True)
class FeeLineTrace:
    """A fee line the platform accepted (2204) and still holds when a batch is settled.

    Example::

        lines = fee_lines_for_batch(ctx.records, "M1", "B1", before_seq=9)
        total = sum(line.det_item_fee_sumamt for line in lines)
    """

    seq: int
    feedetl_sn: str
    chrg_bchno: str
    det_item_fee_sumamt: Decimal
    cnt: Decimal | None
    pric: Decimal | None


def fee_lines_for_batch(
    records: Sequence[TranscriptRecord], mdtrt_id: str, chrg_bchno: str, *, before_seq: int
) -> list[FeeLineTrace]:
    """The lines of batch ``chrg_bchno`` of a visit the platform held just before ``before_seq``.

    2204 answers with infcode 0 add lines (a repeated ``feedetl_sn`` replaces the earlier
    one); 2205 answers with infcode 0 remove the batch's unsettled lines (``"0000"``: every
    unsettled batch). A batch is settled while a live 2207 of it stands.

    Example::

        lines = fee_lines_for_batch(ctx.records, record.mdtrt_id, batch, before_seq=record.seq)
    """
    lines: dict[str, FeeLineTrace] = {}
    earlier = [r for r in records if r.seq < before_seq]
    for record in earlier:
        if not record.state_changed:
            continue
        if record.infno == "2204":
            _add_lines(record, mdtrt_id, chrg_bchno, lines)
        elif record.infno == "2205":
            batch = record.data.get("chrg_bchno")
            if record.data.get("mdtrt_id") != mdtrt_id or batch not in (chrg_bchno, "0000"):
                continue
            if not _batch_settled(earlier, mdtrt_id, chrg_bchno, record.seq):
                lines.clear()
    return sorted(lines.values(), key=lambda line: (line.seq, line.feedetl_sn))


def _add_lines(
    record: TranscriptRecord, mdtrt_id: str, chrg_bchno: str, lines: dict[str, FeeLineTrace]
) -> None:
    rows = record.input.get("feedetail")
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
            seq=record.seq,
            feedetl_sn=sn,
            chrg_bchno=chrg_bchno,
            det_item_fee_sumamt=total,
            cnt=_decimal(row.get("cnt")),
            pric=_decimal(row.get("pric")),
        )


def _batch_settled(
    records: Sequence[TranscriptRecord], mdtrt_id: str, chrg_bchno: str, at: int
) -> bool:
    return any(
        t.live and t.mdtrt_id == mdtrt_id and t.chrg_bchno == chrg_bchno
        for t in settlements(records, until_seq=at)
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None

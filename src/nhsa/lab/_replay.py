"""Re-running an exported visit against a fresh mock, and saying where the answers differ.

:func:`replay` takes a :class:`~nhsa.lab.VisitExport` and, in a new in-process
``MockPlatform`` served the export's own fixture files:

1. enrols the institution under its code and signing profile, with fresh credentials and a
   fresh SM2 key (the original's secrets never travel);
2. restores what the visit read from the admin API: filings, e-voucher tokens (new tokens,
   mapped like platform ids) and downtime windows;
3. sends every record's request again, in order, on **the original's clock** — the platform's
   time is set to each record's ``received_at`` — so day boundaries, sign-in expiry and
   downtime windows fall as they did; before a request whose record says a fault acted on it,
   that fault is armed for exactly that call. Platform ids in requests (``mdtrt_id``,
   ``setl_id``, ``sign_no`` …) are replaced by the ids this platform issued, learned from the
   answers as they come (:class:`~nhsa.lab._compare.IdMap`). A request that was sent unsigned,
   or whose signature or gateway headers failed, is sent unsigned or spoilt the same way;
4. compares each fresh transcript record with the original, field by field
   (:mod:`nhsa.lab._compare`: platform ids, times and signatures legitimately differ and are
   left out, and counted), and the visit's verdict (:func:`~nhsa.lab._visit.visit_verdict`).

Example::

    report = replay(read_export(Path("visit.json").read_bytes()))
    report.same, report.verdict_original, [s.describe() for s in report.steps]
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx

from nhsa.conformance import TranscriptRecord
from nhsa.conformance._transcript import parse_record
from nhsa.envelope import CHINA_TIME, dumps
from nhsa.lab._compare import COMPARED, Difference, IdMap, diff, rewrite
from nhsa.lab._export import VisitExport, fixture_folder
from nhsa.lab._visit import Role, visit_verdict
from nhsa.mock import MockPlatform
from nhsa.mock.fixtures import FixtureError
from nhsa.signing import ClientSigning

__all__ = ["ReplayError", "ReplayReport", "ReplayedRecord", "replay"]

_READ_TIMEOUT: Final = 5.0
DOWNTIME_ERROR: Final = "insured_place_offline"
_DOWNTIME_WORDS: Final = re.compile(
    r"暂不能办理：(?P<area>[0-9]{6})（(?P<reason>.*?)），预计 "
    r"(?P<until>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}) 恢复"
)
_FAULT_PARAMETERS: Final = ("ms", "status", "mode", "area", "after_commit")


class ReplayError(RuntimeError):
    """The export cannot be replayed (its fixtures do not load, its institution cannot be
    enrolled); the message says which part and why."""


@dataclass(frozen=True)
class ReplayedRecord:
    """One original record and what the fresh platform recorded for the same request."""

    role: Role
    seq: int
    infno: str | None
    msgid: str | None
    differences: tuple[Difference, ...]
    replay_seq: int | None
    note: str = ""

    @property
    def same(self) -> bool:
        """Whether the fresh platform judged and answered as the original did."""
        return not self.differences and self.replay_seq is not None

    def describe(self) -> str:
        """One line: the record and ``same`` or what differs."""
        head = f"{self.seq:>6}  {self.role:<8} {self.infno or '-':<5} {self.msgid or '-':<30}"
        if self.replay_seq is None:
            return f"{head} NOT REPLAYED: {self.note}"
        if not self.differences:
            return f"{head} same{f' ({self.note})' if self.note else ''}"
        return f"{head} DIFFERS: " + "; ".join(d.describe() for d in self.differences)


@dataclass(frozen=True)
class ReplayReport:
    """What a replay found: each record, the ids mapped, what was ignored, both verdicts."""

    mdtrt_id: str
    tenant: str
    steps: tuple[ReplayedRecord, ...]
    ids: Mapping[str, str]
    ignored: Mapping[str, int]
    verdict_original: str
    verdict_replay: str

    @property
    def same_verdict(self) -> bool:
        """Whether the visit's settlements ended the same way."""
        return self.verdict_original == self.verdict_replay

    @property
    def same(self) -> bool:
        """Every record answered alike and the same verdict."""
        return self.same_verdict and all(step.same for step in self.steps)


@dataclass
class _ReplayClock:
    """The fresh platform's time: set to each original request's receipt before it is sent."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()


@dataclass
class _Session:
    platform: MockPlatform
    clock: _ReplayClock
    signing: ClientSigning
    http: httpx.Client
    tenant: str
    ids: IdMap = field(default_factory=IdMap)
    ignored: dict[str, int] = field(default_factory=dict)
    last_seq: int = 0


def replay(export: VisitExport) -> ReplayReport:
    """Re-run ``export`` against a fresh in-process mock (see the module docstring)."""
    first = export.parts[0].record.received_at
    clock = _ReplayClock(first.astimezone(CHINA_TIME))
    with tempfile.TemporaryDirectory(prefix="nhsa-replay-") as folder:
        fixtures = fixture_folder(export, Path(folder) / "fixtures")
        try:
            platform = MockPlatform(fixtures=fixtures, clock=clock, allow_fault_header=False)
        except FixtureError as exc:
            problem, more = exc.problems[0], len(exc.problems) - 1
            also = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
            raise ReplayError(f"the export's fixture files do not load: {problem}{also}") from None
        with platform:
            return _replay_on(platform, clock, export)


def _replay_on(platform: MockPlatform, clock: _ReplayClock, export: VisitExport) -> ReplayReport:
    institution = export.institution
    tenant = str(institution["fixmedins_code"])
    try:
        enrolled = platform.enroll(
            tenant,
            profile=str(institution["profile"]),
            fixmedins_name=str(institution["fixmedins_name"]),
            mdtrtarea_admvs=str(institution["mdtrtarea_admvs"]),
            level=str(institution["level"]),
            networked=tuple(institution["networked"]),
        )
    except Exception as exc:  # the admin service's refusal names the field and the rule
        raise ReplayError(f"the institution {tenant} cannot be enrolled: {exc}") from None
    signing = enrolled.client_signing(clock=clock.timestamp)
    with httpx.Client(
        transport=platform.transport, base_url=platform.base_url, timeout=_READ_TIMEOUT
    ) as http:
        session = _Session(platform, clock, signing, http, tenant)
        _restore_state(session, export.document["state"])
        steps = tuple(_replay_record(session, part.role, raw) for part, raw in _raw(export))
        replayed = [parse_record(r) for r in platform.transcript(tenant)]
    return ReplayReport(
        mdtrt_id=export.mdtrt_id,
        tenant=tenant,
        steps=steps,
        ids=dict(session.ids.pairs),
        ignored=dict(session.ignored),
        verdict_original=visit_verdict(p.record for p in export.parts if p.role == "visit"),
        verdict_replay=visit_verdict(
            r
            for r in replayed
            if r.mdtrt_id == session.ids.replayed(export.mdtrt_id) or r.infno == "2601"
        ),
    )


def _raw(export: VisitExport) -> list[tuple[Any, Mapping[str, Any]]]:
    return [
        (part, item["record"])
        for part, item in zip(export.parts, export.document["records"], strict=True)
    ]


def _restore_state(session: _Session, state: Mapping[str, Any]) -> None:
    platform, tenant = session.platform, session.tenant
    for filing in state["filings"]:
        fields = filing["filing"] or {"kind": "none"}
        platform.set_filing(
            tenant, filing["psn_no"], **{k: v for k, v in fields.items() if v is not None}
        )
    for token in state["ec_tokens"]:
        issued = datetime.fromisoformat(token["issued_at"])
        expires = datetime.fromisoformat(token["expires_at"])
        session.clock.now = issued
        ttl = max(1, int((expires - issued).total_seconds()))
        fresh = platform.issue_ec_token(tenant, token["psn_no"], ttl_seconds=ttl)
        session.ids.pairs[token["token"]] = fresh
    for window in state["downtime"]:
        session.clock.now = datetime.fromisoformat(window["start"])
        platform.schedule_downtime(
            tenant,
            window["admdvs"],
            datetime.fromisoformat(window["start"]),
            datetime.fromisoformat(window["end"]),
            reason=window["reason"],
        )


def _replay_record(session: _Session, role: Role, original: Mapping[str, Any]) -> ReplayedRecord:
    record = parse_record(original)
    session.clock.now = record.received_at.astimezone(CHINA_TIME)
    if record.fault is not None:
        _arm(session, original["fault"], record.infno, record.err_msg)
    window = _downtime_for(session, record)
    note = _send(session, record.path, original)
    if window is not None:
        session.platform.admin.cancel_downtime(session.tenant, window)
        note = note or "its downtime window was rebuilt from the refusal"
    fresh = session.platform.transcript(session.tenant, session.last_seq)
    if not fresh:
        return ReplayedRecord(role, record.seq, record.infno, record.msgid, (), None, note)
    session.last_seq = fresh[-1]["seq"]
    differences = diff(_judged(original), _judged(fresh[0]), session.ids, ignored=session.ignored)
    if len(fresh) > 1:
        note = f"the fresh platform recorded {len(fresh)} records for this request"
    session.platform.clear_faults(session.tenant)
    return ReplayedRecord(
        role, record.seq, record.infno, record.msgid, tuple(differences), fresh[0]["seq"], note
    )


def _downtime_for(session: _Session, record: TranscriptRecord) -> str | None:
    """A downtime refusal names its window (area, reason, end): schedule that window for this
    call alone. The console's runs cancel their windows when a scenario ends, so the export's
    state may no longer hold it; the refusal's own words (nhsa.mock.engine._gate) do."""
    if record.error_id != DOWNTIME_ERROR or record.fault is not None or not record.err_msg:
        return None
    found = _DOWNTIME_WORDS.search(record.err_msg)
    if found is None:
        return None
    end = datetime.strptime(found["until"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TIME)
    window = session.platform.schedule_downtime(
        session.tenant,
        found["area"],
        session.clock.now - timedelta(seconds=1),
        end,
        reason=found["reason"],
    )
    return str(window["window_id"])


def _arm(
    session: _Session, fault: Mapping[str, Any], infno: str | None, err_msg: str | None
) -> None:
    params = {name: fault[name] for name in _FAULT_PARAMETERS if fault.get(name) is not None}
    if fault["kind"] == "business-error" and err_msg:
        params["err_msg"] = err_msg[:200]
    if fault["kind"] != "http-error":
        params.pop("after_commit", None)
        params.pop("status", None)
    session.platform.arm_fault(session.tenant, fault["kind"], infno=infno, times=1, **params)


def _send(session: _Session, path: str, original: Mapping[str, Any]) -> str:
    """Send the original's request again as it was sent; a note when it is sent otherwise."""
    request = original["request"]
    headers = {"content-type": original["headers"].get("content-type") or "application/json"}
    if isinstance(request, Mapping):
        document = rewrite(dict(request), session.ids)
        signature = original["signature"]
        if signature["present"]:
            document["cainfo"], document["signtype"] = "", ""
        body = dumps(document)
        if signature["present"] and session.signing.profile.sm2:
            body = session.signing.seal_request(body)
            if signature["ok"] is False:
                body = _spoilt_signature(body)
    else:
        body = dumps(request)
    auth = session.signing.auth
    if auth is not None and original["headers"].get("x-tif-paasid") is not None:
        headers |= auth.headers()
        if not original["gateway"]["ok"]:
            headers["x-tif-signature"] = "0" * len(headers["x-tif-signature"])
    try:
        session.http.post(path, content=body, headers=headers)
    except httpx.HTTPError as exc:  # a fault withheld or spoilt the answer, as in the original
        return f"no answer reached the replay ({type(exc).__name__})"
    return ""


def _spoilt_signature(body: bytes) -> bytes:
    """The signed body with its signature's last hex digit changed (it no longer verifies)."""
    marker = body.rfind(b'"cainfo":"')
    end = body.find(b'"', marker + len(b'"cainfo":"'))
    if marker < 0 or end <= 0:
        return body
    last = body[end - 1 : end]
    return body[: end - 1] + (b"0" if last != b"0" else b"1") + body[end:]


def _judged(record: Mapping[str, Any]) -> dict[str, Any]:
    """The members that say how the platform judged and answered (the fault without its id)."""
    judged = {name: record.get(name) for name in COMPARED}
    fault = record.get("fault")
    if isinstance(fault, Mapping):
        judged["fault"] = {k: v for k, v in fault.items() if k not in ("id", "armed_by")}
    return judged

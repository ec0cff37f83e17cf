"""Load-bearing members: what the SDK cannot act without in a success answer, per transaction.

The reading rule: an answer with a definite ``infcode`` is definite. A success (infcode 0) is
never turned into an unknown outcome by its shape — missing, null or locally coded members and
members the contract does not know are warnings on the outcome. Only the members below make a
success *unusable*: the SDK needs them to take its next step or to keep its journal, so without
them it stops with :class:`~nhsa.client.errors.UnusableAnswerError` naming each one. It still
never reverses (2601) or refunds the success: the journal records it as succeeded, with what
was missing, so ``recover()`` and ``reconcile()`` count it as the definite fact it is.

The table :data:`LOAD_BEARING` is the data this module checks and the workflows read through
(:func:`loaded` refuses a member that is not in it), and README's table says the same.
Members are written as dotted paths from the output; ``[]`` stands for every item of a list.

Example:
    >>> from nhsa.models import Output2201
    >>> answer = Output2201.model_validate({"data": {"psn_no": "P1"}})
    >>> [str(s) for s in shortfalls("2201", answer, "H53010100001202611231015300001")]
    ['data.mdtrt_id: missing — every later call of the visit names it (2203–2208, 2202)']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from nhsa.models import OutputModel

_LEDGER = "the journal's ledger row for day-end reconciliation (3201/3202)"
ECHOED = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
)
"""The pre-settlement (2206, 2303) amounts the settlement (2207, 2304) repeats (reference
§3.11)."""


@dataclass(frozen=True, slots=True)
class LoadBearing:
    """A member of a success answer the SDK acts on.

    Attributes:
        member: dotted path from the output (``setlinfo.setl_id``; ``[]`` for list items).
        why: what the SDK does with it.
        names_msgid: when present, it must name the request's own msgid (an answer that names
            another request's is not usable as ours).

    Example:
        >>> LoadBearing("setlinfo.setl_id", "refunds (2208) name it").member
        'setlinfo.setl_id'
    """

    member: str
    why: str
    names_msgid: bool = False


LOAD_BEARING: Mapping[str, tuple[LoadBearing, ...]] = {
    "9001": (LoadBearing("signinoutb.sign_no", "every later call carries it as sign_no"),),
    "1101": (
        LoadBearing("baseinfo.psn_no", "2201 and every later call of the visit name the person"),
        LoadBearing("insuinfo", "the visit is opened under one of the person's insurances"),
        LoadBearing("insuinfo[].insutype", "picks the insurance the cashier chose"),
        LoadBearing(
            "insuinfo[].insuplc_admdvs", "every later call carries it as insuplc_admdvs (参保地)"
        ),
    ),
    "2201": (
        LoadBearing("data.mdtrt_id", "every later call of the visit names it (2203–2208, 2202)"),
    ),
    "2206": tuple(
        LoadBearing(f"setlinfo.{name}", "2207 repeats it (结算 echoes 预结算)") for name in ECHOED
    ),
    "2401": (
        LoadBearing(
            "result.mdtrt_id", "every later call of the stay names it (2301–2305, 2402–2405)"
        ),
    ),
    "2303": tuple(
        LoadBearing(f"setlinfo.{name}", "2304 repeats it (结算 echoes 预结算)") for name in ECHOED
    ),
    "2207": (
        LoadBearing("setlinfo.setl_id", "a refund (2208) names it; so does reconciliation"),
        LoadBearing(
            "setlinfo.medins_setl_id",
            "echoes the 2207 msgid: an answer naming another request's is not ours",
            names_msgid=True,
        ),
        LoadBearing("setlinfo.medfee_sumamt", _LEDGER),
        LoadBearing("setlinfo.fund_pay_sumamt", _LEDGER),
        LoadBearing("setlinfo.acct_pay", _LEDGER),
    ),
    "2208": (
        LoadBearing("setlinfo.setl_id", "the refund's own row in the 3202 detail file"),
        LoadBearing("setlinfo.medfee_sumamt", _LEDGER),
        LoadBearing("setlinfo.fund_pay_sumamt", _LEDGER),
        LoadBearing("setlinfo.acct_pay", _LEDGER),
    ),
    "2304": (
        LoadBearing("setlinfo.setl_id", "a cancellation (2305) names it; so does reconciliation"),
        LoadBearing(
            "setlinfo.medins_setl_id",
            "echoes the 2304 msgid: an answer naming another request's is not ours",
            names_msgid=True,
        ),
        LoadBearing("setlinfo.medfee_sumamt", _LEDGER),
        LoadBearing("setlinfo.fund_pay_sumamt", _LEDGER),
        LoadBearing("setlinfo.acct_pay", _LEDGER),
    ),
    "2305": (
        LoadBearing("setlinfo.setl_id", "the cancellation's own row in the 3202 detail file"),
        LoadBearing("setlinfo.medfee_sumamt", _LEDGER),
        LoadBearing("setlinfo.fund_pay_sumamt", _LEDGER),
        LoadBearing("setlinfo.acct_pay", _LEDGER),
    ),
    "3201": (
        LoadBearing("stmtinfo.stmt_rslt", "decides whether the group balanced or needs 3202"),
    ),
    "9101": (LoadBearing("file_qury_no", "3202 names the uploaded detail file by it"),),
    "3202": (
        LoadBearing("fileinfo.file_qury_no", "9102 downloads the result file by it"),
        LoadBearing("fileinfo.filename", "9102 names the result file"),
    ),
    "2503": (
        LoadBearing("result.trt_dcla_detl_sn", "the cancel (2504) names the registration by it"),
    ),
    "5301": (
        LoadBearing(
            "feedetail[].opsp_dise_code", "a chronic visit names the disease (2203 dise_codg)"
        ),
    ),
}
"""infno → the members of its success answer the SDK cannot act without (README, 'Reading')."""


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A load-bearing member a success answer did not deliver.

    Attributes:
        member: where (``setlinfo.setl_id``, ``insuinfo[1].insuplc_admdvs``).
        problem: ``missing`` (absent, null, empty or unreadable) or ``names another msgid``.
        why: what the SDK needed it for.

    Example:
        >>> str(Shortfall("setlinfo.setl_id", "missing", "a refund (2208) names it"))
        'setlinfo.setl_id: missing — a refund (2208) names it'
    """

    member: str
    problem: str
    why: str

    def __str__(self) -> str:
        return f"{self.member}: {self.problem} — {self.why}"


def shortfalls(infno: str, output: object, msgid: str) -> tuple[Shortfall, ...]:
    """Every load-bearing member of ``infno`` that ``output`` lacks (empty: usable)."""
    found: list[Shortfall] = []
    for need in LOAD_BEARING.get(infno, ()):
        for where, value in _values(output, need.member.split(".")):
            if need.names_msgid:
                if _present(value) and value != msgid:
                    found.append(Shortfall(where, f"names msgid {value}, not {msgid}", need.why))
            elif not _present(value):
                found.append(Shortfall(where, "missing", need.why))
    return tuple(found)


def loaded(output: OutputModel, member: str) -> Any:
    """A load-bearing member of a checked success ``output`` (``insuinfo[0].insutype`` for an
    item). The core has refused an answer lacking it, so here it is present; a member that is
    not in :data:`LOAD_BEARING` is a programming error, refused so the table stays complete.

    Example:
        >>> from nhsa.models import Output2201
        >>> loaded(Output2201.model_validate({"data": {"mdtrt_id": "V1"}}), "data.mdtrt_id")
        'V1'
    """
    infno = _infno_of(output)
    declared = {need.member for need in LOAD_BEARING.get(infno, ())}
    steps = member.split(".")
    if _generic(steps) not in declared:
        raise LookupError(f"{infno} {member} is read by the SDK but not in LOAD_BEARING")
    ((_, value),) = _values(output, steps)
    if not _present(value):
        raise LookupError(f"{infno} {member}: absent although the answer was checked")
    return value


def _values(node: object, steps: list[str]) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for every value a member path reaches (one per list item)."""
    if not steps:
        yield "", node
        return
    step, rest = steps[0], steps[1:]
    name, bracket, index = step.partition("[")
    child = getattr(node, name, None) if node is not None else None
    if not bracket:
        for where, value in _values(child, rest):
            yield name + (f".{where}" if where else ""), value
        return
    items = child if isinstance(child, list) else []
    chosen = range(len(items)) if index == "]" else [int(index.rstrip("]"))]
    for i in chosen:
        item = items[i] if i < len(items) else None
        for where, value in _values(item, rest):
            yield f"{name}[{i}]" + (f".{where}" if where else ""), value


def _generic(steps: list[str]) -> str:
    return ".".join(step.partition("[")[0] + ("[]" if "[" in step else "") for step in steps)


def _present(value: object) -> bool:
    return value is not None and value != ""


def _infno_of(output: OutputModel) -> str:
    location = str(getattr(output, "nhsa_schema", ""))
    return location.rpartition("/transactions/")[2].partition(".json")[0]

"""Reading response envelopes: a definite answer is read whatever its shape.

An answer is *definite* when it is a JSON object with a numeric ``infcode``: the platform has
decided. Such an answer is always read — missing, null, over-long or locally coded members,
members the contract does not know, the 2208 ``pdn_cash_pay`` misprint, a string infcode — and
every departure from the contract becomes an :class:`~nhsa.envelope.AnswerWarning` on the
result, never an error. What is checked is the contract itself (``nhsa.spec``'s validator of the
transaction's output), so a warning names the member and the rule exactly.

Not an answer (:class:`MalformedResponseError`): a body that is not a JSON object, a missing or
non-numeric infcode, a success whose ``output`` is not an object, or a success whose output
carries none of the transaction's nodes but others (another transaction's body). The caller
cannot trust such a body; for a state-changing call the outcome is unknown.

Read in a province dialect (``dialect=``), the answer is first brought into the national shape
(:mod:`nhsa.envelope._dialect`): a wrapper is opened, members spelt the dialect's way are
renamed, spelt codes read as national ones — each a warning. A body in one of the dialect's
refusal shapes is a definite refusal only where the profile says the shape is definite (a
gateway's authentication refusal); any other such body is not an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from nhsa._nesting import CUT, MAX_DEPTH, deeper_than, pruned, text_depth
from nhsa.envelope._dialect import decode_answer, local_code_warnings, read_shape
from nhsa.envelope._warnings import AnswerWarning, contract_warnings
from nhsa.models import OutputModel, ResponseEnvelope, models_for
from nhsa.spec import Dialect, ValidationIssue, contract
from nhsa.spec._issues import pointer_of

M = TypeVar("M", bound=BaseModel)
_RENAMED = {"pdn_cash_pay": "psn_cash_pay"}


class MalformedResponseError(ValueError):
    """The answer cannot be read as this transaction's response envelope.

    Attributes:
        issues: every problem found, each naming its JSON pointer and rule.
    """

    def __init__(self, infno: str, issues: list[ValidationIssue]) -> None:
        self.infno = infno
        self.issues = issues
        summary = "; ".join(str(i) for i in issues[:5])
        more = f" (+{len(issues) - 5} more)" if len(issues) > 5 else ""
        super().__init__(f"{infno} answer is malformed: {summary}{more}")


@dataclass(frozen=True)
class ParsedResponse:
    """A response envelope, read.

    Attributes:
        infcode: 0 success; anything else a definite business failure.
        err_msg: the platform's error text (None on success).
        output: the typed output on success, else None.
        warnings: what was tolerated while reading (see :class:`AnswerWarning`).
        envelope: the whole envelope as a model.
    """

    infno: str
    infcode: int
    err_msg: str | None
    output: OutputModel | None
    envelope: ResponseEnvelope
    warnings: tuple[AnswerWarning, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the platform reports success (infcode 0)."""
        return self.infcode == 0


def parse_response(body: bytes, infno: str, dialect: Dialect | None = None) -> ParsedResponse:
    """Read the body of an answer to ``infno``; :class:`MalformedResponseError` if it is not one.

    Example:
        >>> parsed = parse_response(b'{"infcode":"-1","err_msg":"no visit","output":null}', "2202")
        >>> parsed.ok, parsed.err_msg, [w.kind for w in parsed.warnings]
        (False, 'no visit', ['infcode-string'])
        >>> parsed = parse_response(b'{"infcode":0,"output":{"data":{"mdtrt_id":"V1",'
        ...                         b'"psn_no":"P1","expContent":null}}}', "2201")
        >>> parsed.output.data.mdtrt_id
        'V1'
        >>> for warning in parsed.warnings:
        ...     print(warning)
        data.ipt_otp_no missing (the contract requires it)
        data.expContent not in the contract; kept

        In a dialect (here a Hunan platform that answers infcode 0 with an error text):

        >>> from nhsa.spec import dialect
        >>> body = '{"infcode":0,"err_msg":"FSI-文件查询号不能为空[fileBO_156]","warn_msg":"成功",'
        >>> parsed = parse_response((body + '"output":{}}').encode(), "9101", dialect("hunan"))
        >>> parsed.ok, parsed.warnings[0].kind, parsed.output.file_qury_no
        (True, 'err-msg-on-success', None)
    """
    raw, warnings = _object(body, infno)
    chosen = dialect if dialect is not None and not dialect.is_national else None
    if chosen is not None:
        raw = _unshaped(raw, infno, chosen, warnings)
        raw, renamed = decode_answer(chosen, infno, raw)
        warnings.extend(renamed)
    infcode = _infcode(raw, infno)
    if isinstance(raw["infcode"], str):
        warnings.append(AnswerWarning("infcode-string", "/infcode", "infcode sent as a string"))
    envelope = _lenient(infno, ResponseEnvelope, {**raw, "output": None}, (), warnings)
    if envelope.warn_msg and envelope.warn_msg != _usual_warn_msg(chosen):
        warnings.append(
            AnswerWarning("platform-warning", "/warn_msg", f"warn_msg: {envelope.warn_msg}")
        )
    output: OutputModel | None = None
    if infcode == 0:
        if envelope.err_msg:
            warnings.append(_err_msg_on_success(envelope.err_msg, chosen))
        nodes = _normalized(_output_nodes(raw.get("output"), infno), ("output",), warnings)
        issues = contract().validators.check_output(infno, nodes)
        found = contract_warnings(infno, nodes, issues)
        output = _lenient(infno, models_for(infno).output, nodes, ("output",), found)
        found.extend(_unknown_members(output, "/output"))
        if chosen is not None:
            found = local_code_warnings(chosen, infno, found, nodes)
        warnings.extend(found)
    return ParsedResponse(
        infno=infno,
        infcode=infcode,
        err_msg=envelope.err_msg,
        output=output,
        envelope=envelope.model_copy(update={"output": raw.get("output")}),
        warnings=tuple(warnings),
    )


def _unshaped(
    raw: dict[str, Any], infno: str, dialect: Dialect, warnings: list[AnswerWarning]
) -> dict[str, Any]:
    """The envelope of an answer in one of the dialect's shapes (see the module docstring)."""
    reading = read_shape(dialect, raw)
    if reading is None:
        return raw
    if reading.envelope is not None:
        warnings.append(
            AnswerWarning(
                "dialect-shape",
                "",
                f"opened {dialect.name}'s {reading.shape.name} (code {reading.code!r})",
            )
        )
        return reading.envelope
    if reading.definite_refusal:
        warnings.append(
            AnswerWarning(
                "dialect-shape", "", f"{reading.describe(dialect)}: read as a definite refusal"
            )
        )
        return {"infcode": -1, "err_msg": reading.message or reading.describe(dialect)}
    issue = ValidationIssue(
        "",
        "dialect-shape",
        f"{reading.describe(dialect)}: not the platform's answer and not definite per the "
        f"{dialect.name} profile ({reading.shape.evidence})",
    )
    raise MalformedResponseError(infno, [issue])


def _usual_warn_msg(dialect: Dialect | None) -> str | None:
    """The warn_msg a dialect's platform puts on every success (nothing to warn about)."""
    usual = dialect.warn_msg_on_success if dialect is not None else None
    return str(usual.value) if usual is not None else None


def _err_msg_on_success(err_msg: str, dialect: Dialect | None) -> AnswerWarning:
    habit = (
        f"; {dialect.name} answers so on some calls ({dialect.err_msg_on_success})"
        if dialect is not None and dialect.err_msg_on_success is not None
        else ""
    )
    return AnswerWarning(
        "err-msg-on-success",
        "/err_msg",
        f"infcode 0 with err_msg {err_msg!r}: read as a success, infcode decides{habit}",
    )


def _object(body: bytes, infno: str) -> tuple[dict[str, Any], list[AnswerWarning]]:
    """The answer as an object; members nested deeper than ``MAX_DEPTH`` are cut (and
    warned), so no reader after this one can recurse without bound."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if text_depth(body) > MAX_DEPTH:
            issue = ValidationIssue(
                "", "max-depth", f"the answer nests deeper than {MAX_DEPTH} levels ({exc})"
            )
        else:
            issue = ValidationIssue("", "json", str(exc))
        raise MalformedResponseError(infno, [issue]) from None
    if not isinstance(raw, dict):
        issue = ValidationIssue("", "type", "the answer is not a JSON object")
        raise MalformedResponseError(infno, [issue])
    warnings: list[AnswerWarning] = []
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and deeper_than(raw):
        raw, cut = pruned(raw)
        warnings.extend(
            AnswerWarning(
                "too-deep",
                pointer,
                f"{_dotted(pointer)} nests deeper than {MAX_DEPTH} levels; read as {CUT!r}",
            )
            for pointer in cut
        )
    return raw, warnings


def _infcode(raw: Mapping[str, Any], infno: str) -> int:
    value = raw.get("infcode")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = "missing" if "infcode" not in raw else f"{value!r} is not a number"
        issue = ValidationIssue("/infcode", "infcode", f"infcode: {shown}")
        raise MalformedResponseError(infno, [issue])
    return value


def _output_nodes(value: object, infno: str) -> dict[str, Any]:
    """The success output as an object, or an error when it is not this transaction's."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        issue = ValidationIssue("/output", "type", "output: a success answer's output is an object")
        raise MalformedResponseError(infno, [issue])
    ours = set(contract().transaction(infno).output_schema.get("properties", {}))
    if ours and value and not ours & set(value):
        issue = ValidationIssue(
            "/output",
            "transaction",
            f"output: carries {', '.join(sorted(value))} and none of {infno}'s nodes "
            f"({', '.join(sorted(ours))}): not an answer to {infno}",
        )
        raise MalformedResponseError(infno, [issue])
    return value


def _lenient(
    infno: str,
    model: type[M],
    data: dict[str, Any],
    prefix: tuple[str, ...],
    warnings: list[AnswerWarning],
) -> M:
    """``data`` as ``model``, each value that is not of its member's type dropped (warned).

    Every round drops at least one value, so the rounds end (one per nesting level, in practice).
    """
    copied = False
    while True:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            if not copied:
                data, copied = _copy(data), True  # the caller's dict stays as received
            errors = sorted(exc.errors(include_url=False), key=_deepest_last_first)
            dropped = [(where, error) for error in errors if (where := _drop(data, error["loc"]))]
            if not dropped:
                first = errors[0]
                issue = ValidationIssue(pointer_of(prefix), first["type"], first["msg"])
                raise MalformedResponseError(infno, [issue]) from None
            for where, error in reversed(dropped):
                pointer = pointer_of([*prefix, *where])
                message = f"{_dotted(pointer)} unreadable ({error['msg']}); read as absent"
                warnings.append(AnswerWarning("unreadable", pointer, message))


def _deepest_last_first(error: Any) -> list[tuple[int, int | str]]:
    """Sort key putting later list items first, so dropping one leaves the others' indices."""
    return [(0, -step) if isinstance(step, int) else (1, step) for step in error["loc"]]


def _drop(data: dict[str, Any], loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Remove the innermost value ``loc`` reaches; return the location actually removed."""
    node: Any = data
    reached: list[int | str] = []
    for depth, step in enumerate(loc):
        child_exists = (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and step < len(node)
        )
        if not child_exists:
            break
        if not isinstance(node[step], dict | list) or depth == len(loc) - 1:
            reached.append(step)
            break
        reached.append(step)
        node = node[step]
    if not reached:
        return ()
    parent: Any = data
    for step in reached[:-1]:
        parent = parent[step]
    last = reached[-1]
    if isinstance(parent, list):
        parent.pop(int(last))
    else:
        parent.pop(last)
    return tuple(reached)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _normalized(nodes: Any, where: tuple[str | int, ...], warnings: list[AnswerWarning]) -> Any:
    """Accept known misspellings of the spec (e.g. pdn_cash_pay) under their right names."""
    if isinstance(nodes, dict):
        fixed: dict[str, Any] = {}
        for sent, value in nodes.items():
            key = sent
            right = _RENAMED.get(sent)
            if right is not None and right not in nodes:
                warnings.append(
                    AnswerWarning("renamed", pointer_of([*where, sent]), f"{sent} read as {right}")
                )
                key = right
            fixed[key] = _normalized(value, (*where, key), warnings)
        return fixed
    if isinstance(nodes, list):
        return [_normalized(item, (*where, i), warnings) for i, item in enumerate(nodes)]
    return nodes


def _dotted(pointer: str) -> str:
    """``/output/setldetail/0/memo`` → ``setldetail.0.memo`` (the member, for a message)."""
    return pointer.removeprefix("/output").strip("/").replace("/", ".")


def _unknown_members(model: OutputModel, pointer: str) -> list[AnswerWarning]:
    found = [
        AnswerWarning(
            "unknown-member",
            f"{pointer}/{name}",
            f"{_dotted(f'{pointer}/{name}')} not in the contract; kept",
        )
        for name in (model.model_extra or {})
    ]
    for name, value in model.__dict__.items():
        children = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, child in children:
            if isinstance(child, OutputModel):
                where = f"{pointer}/{name}" + ("" if index is None else f"/{index}")
                found.extend(_unknown_members(child, where))
    return found

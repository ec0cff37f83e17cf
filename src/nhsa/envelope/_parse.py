"""Reading response envelopes: tolerant of what real platforms send, exact about what matters.

Tolerated (reported as warnings, not errors): infcode as a string, unknown members, the 2208
``pdn_cash_pay`` spelling, ``warn_msg``. Not tolerated: a body that is not a JSON object, a
missing or non-numeric infcode, or a successful answer whose output does not fit the
transaction's model — the caller cannot trust such an answer, which for a state-changing call
means the outcome is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from nhsa.models import OutputModel, ResponseEnvelope, models_for
from nhsa.spec import ValidationIssue
from nhsa.spec._issues import pointer_of


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
        warnings: things tolerated while reading (unknown members, string infcode, …).
        envelope: the whole envelope as a model.
    """

    infno: str
    infcode: int
    err_msg: str | None
    output: OutputModel | None
    envelope: ResponseEnvelope
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the platform reports success (infcode 0)."""
        return self.infcode == 0


_RENAMED = {"pdn_cash_pay": "psn_cash_pay"}


def parse_response(body: bytes, infno: str) -> ParsedResponse:
    """Read the body of an answer to ``infno``; :class:`MalformedResponseError` if untrustworthy.

    Example:
        >>> parsed = parse_response(b'{"infcode":"-1","err_msg":"no visit","output":null}', "2202")
        >>> parsed.ok, parsed.err_msg, parsed.warnings
        (False, 'no visit', ('infcode sent as a string',))
    """
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedResponseError(infno, [ValidationIssue("", "json", str(exc))]) from None
    if not isinstance(raw, dict):
        issue = ValidationIssue("", "type", "the answer is not a JSON object")
        raise MalformedResponseError(infno, [issue])
    warnings: list[str] = []
    if isinstance(raw.get("infcode"), str):
        warnings.append("infcode sent as a string")
    try:
        envelope = ResponseEnvelope.model_validate(raw)
    except ValidationError as exc:
        raise MalformedResponseError(infno, _issues(exc, ())) from None
    if envelope.warn_msg:
        warnings.append(f"warn_msg: {envelope.warn_msg}")
    output: OutputModel | None = None
    if envelope.infcode == 0:
        nodes = _normalized(raw.get("output") or {}, warnings)
        try:
            output = models_for(infno).output.model_validate(nodes)
        except ValidationError as exc:
            raise MalformedResponseError(infno, _issues(exc, ("output",))) from None
        warnings.extend(f"output: unknown member {name}" for name in _unknown_members(output))
    return ParsedResponse(
        infno=infno,
        infcode=envelope.infcode,
        err_msg=envelope.err_msg,
        output=output,
        envelope=envelope,
        warnings=tuple(warnings),
    )


def _normalized(nodes: Any, warnings: list[str]) -> Any:
    """Accept known misspellings of the spec (e.g. pdn_cash_pay) under their right names."""
    if isinstance(nodes, dict):
        fixed: dict[str, Any] = {}
        for key, value in nodes.items():
            right = _RENAMED.get(key)
            if right is not None and right not in nodes:
                warnings.append(f"{key} read as {right}")
            fixed[right if right and right not in nodes else key] = _normalized(value, warnings)
        return fixed
    if isinstance(nodes, list):
        return [_normalized(item, warnings) for item in nodes]
    return nodes


def _unknown_members(model: OutputModel) -> list[str]:
    names = list((model.model_extra or {}).keys())
    for value in model.__dict__.values():
        children = value if isinstance(value, list) else [value]
        for child in children:
            if isinstance(child, OutputModel):
                names.extend(_unknown_members(child))
    return sorted(set(names))


def _issues(exc: ValidationError, prefix: tuple[str, ...]) -> list[ValidationIssue]:
    return [
        ValidationIssue(
            pointer_of([*prefix, *e["loc"]]),
            e["type"],
            f"{e['loc'][-1] if e['loc'] else 'answer'}: {e['msg']}",
        )
        for e in exc.errors()
    ]

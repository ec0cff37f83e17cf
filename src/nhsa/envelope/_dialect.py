"""Translating messages between the national contract and a province dialect, both ways.

The contract stays the one meaning; a :class:`~nhsa.spec.Dialect` only says how a message is
spelt. Four translations, one per edge:

=========================  =========  ==============================================  ==========
function                   who        what                                            strictness
=========================  =========  ==============================================  ==========
:func:`render_request`     SDK        a valid national request → the dialect's         strict
:func:`decode_request`     mock       a dialect request → national, and every place    strict
                                      it is not in the dialect (a list of issues)
:func:`encode_answer`      mock       a national answer → the dialect's                exact
:func:`decode_answer`      SDK        a dialect answer → national, with warnings       tolerant
=========================  =========  ==============================================  ==========

A request's envelope members (``recer_admdvs``, ``infver``…) are the sender's business
(:class:`~nhsa.envelope.Sender`), so rendering touches only ``input``; decoding also checks the
envelope members the dialect requires. Answers that are not envelopes (a gateway's
``{"code": 401, "message": …}``, Guangdong's ``{code, type, message, data}`` wrapper) are read
by :func:`read_shape`.

Example:
    >>> from nhsa.spec import dialect
    >>> guangdong = dialect("guangdong")
    >>> sent = render_request(guangdong, {"infno": "3201", "input": {"data": {
    ...     "insutype": "310", "refd_setl_flag": "0"}}})
    >>> sent["input"]["data"]
    {'insutype': '310', 'REFD_SETL_FLAG': '0'}
    >>> national, issues = decode_request(guangdong, sent)
    >>> national["input"]["data"]["refd_setl_flag"], [i.rule for i in issues]
    ('0', ['required-by-dialect'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from nhsa.envelope._warnings import AnswerWarning
from nhsa.spec import (
    AnswerShape,
    Dialect,
    NodeShape,
    UnknownTransactionError,
    ValidationIssue,
    nodes_of,
)
from nhsa.spec._dialect_model import ENVELOPE
from nhsa.spec._issues import pointer_of

__all__ = [
    "DialectRenderError",
    "ShapeReading",
    "decode_answer",
    "decode_request",
    "encode_answer",
    "fill_envelope",
    "gateway_refusal_body",
    "local_code_warnings",
    "read_shape",
    "render_request",
]

_ROOT: Final = {"request": "input", "answer": "output"}


class DialectRenderError(ValueError):
    """A request that cannot be sent in this dialect (a required extra member is missing,
    a value it must send as an object is not JSON), naming the field and the rule.

    Example:
        >>> from nhsa.spec import dialect
        >>> try:
        ...     render_request(dialect("guangdong"), {"infno": "2204", "input": {"feedetail": [
        ...         {"feedetl_sn": "1"}]}})
        ... except DialectRenderError as error:
        ...     print(error.field, error.rule)
        feedetail[0].medins_list_name required-by-dialect
    """

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule


# -- walking nodes ------------------------------------------------------------------------------


def _rows(node: object) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """The objects of a node: itself (index ``None``) or each row of a list."""
    if isinstance(node, dict):
        yield None, node
    elif isinstance(node, list):
        for index, row in enumerate(node):
            if isinstance(row, dict):
                yield index, row


def _shapes(infno: str, side: Literal["request", "answer"]) -> Mapping[str, NodeShape]:
    try:
        return nodes_of(infno, side)
    except UnknownTransactionError:
        return {}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _dotted(node: str, index: int | None, member: str) -> str:
    return f"{node}{'' if index is None else f'[{index}]'}.{member}"


@dataclass(frozen=True, slots=True)
class _Place:
    """One object of a message being translated: which dialect, transaction, node and row."""

    dialect: Dialect
    infno: str
    node: str
    index: int | None = None

    def field(self, member: str) -> str:
        """``feedetail[0].medins_list_name``: the member, for a message."""
        return _dotted(self.node, self.index, member)

    def pointer(self, member: str) -> str:
        """The member's JSON pointer in a request."""
        if self.node == _ROOT["request"]:
            return pointer_of(["input", member])
        steps: list[str | int] = ["input", self.node]
        return pointer_of([*steps, member] if self.index is None else [*steps, self.index, member])

    def extras_key(self, member: str) -> str:
        """How a caller names this member in ``extras`` (``feedetail/0/medins_list_name``)."""
        if self.node == _ROOT["request"]:
            return member
        if self.index is None:
            return f"{self.node}/{member}"
        return f"{self.node}/{self.index}/{member}"


# -- the SDK's side: render requests, read answers ----------------------------------------------


def fill_envelope(dialect: Dialect, message: Mapping[str, Any]) -> dict[str, Any]:
    """The national request with the envelope members ``dialect`` sends filled in where the
    message leaves them empty (a constant, or a copy of another member).

    Example:
        >>> from nhsa.spec import dialect
        >>> filled = fill_envelope(dialect("guangdong"), {"infno": "9001",
        ...                                                "mdtrtarea_admvs": "440606"})
        >>> filled["recer_admdvs"]
        '440606'
    """
    filled = dict(message)
    for rule in dialect.envelope_members(str(message.get("infno")), "request"):
        if not rule.send or filled.get(rule.member) not in (None, "") or rule.fill == "config":
            continue
        assert isinstance(rule.fill, tuple), "envelope members are config, copy or constant"
        kind, what = rule.fill
        value = filled.get(what) if kind == "copy" else what
        if value is not None and (value != "" or rule.member not in filled):
            filled[rule.member] = value
    return filled


def render_request(
    dialect: Dialect, message: Mapping[str, Any], extras: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A valid national request, spelt in ``dialect``: extra members, aliases, node names.

    ``extras`` gives the extra members the caller supplies, keyed ``node/member`` or
    ``node/index/member`` for rows (``feedetail/0/medins_list_name``). An extra member the
    dialect does not have is not sent; one it requires and nobody gives is a
    :class:`DialectRenderError`. The message itself is not changed.
    """
    rendered = dict(message)
    nodes = message.get("input")
    if dialect.is_national or not isinstance(nodes, dict):
        return rendered
    infno = str(message.get("infno"))
    given = extras or {}
    spelt: dict[str, Any] = {}
    for name, node in _copy(nodes).items():
        for index, row in _rows(node):
            place = _Place(dialect, infno, name, index)
            _add_extras(place, row, given)
            _alias_members(place, row)
        spelt[dialect.node_name(infno, name, "request")] = node
    _add_extras(_Place(dialect, infno, _ROOT["request"]), spelt, given)
    rendered["input"] = spelt
    return rendered


def _add_extras(place: _Place, row: dict[str, Any], given: Mapping[str, Any]) -> None:
    dialect = place.dialect
    for extra in dialect.extras_for(place.infno, place.node, "request"):
        value = given.get(place.extras_key(extra.member))
        if value in (None, "") and isinstance(extra.fill, tuple):
            kind, what = extra.fill
            value = row.get(what) if kind == "copy" else what
        field = place.field(extra.member)
        if value in (None, ""):
            if extra.required:
                raise DialectRenderError(
                    f"{field}: required by the {dialect.name} dialect ({extra.title}; "
                    f"{extra.evidence}); give it with the call",
                    field=field,
                    rule="required-by-dialect",
                )
            continue
        if extra.max_length is not None and len(str(value)) > extra.max_length:
            raise DialectRenderError(
                f"{field}: longer than {extra.max_length} characters",
                field=field,
                rule="maxLength",
            )
        row[extra.member] = value


def _alias_members(place: _Place, row: dict[str, Any]) -> None:
    for alias in place.dialect.aliases_for(place.infno, place.node, "request"):
        if alias.member not in row:
            continue
        value = row.pop(alias.member)
        if alias.value == "json-object" and isinstance(value, str):
            try:
                value = orjson.loads(value) if value.strip() else {}
            except orjson.JSONDecodeError:
                value = None
            if not isinstance(value, dict):
                field = place.field(alias.member)
                raise DialectRenderError(
                    f"{field}: the {place.dialect.name} dialect sends {alias.alias} as a JSON "
                    "object, so it must hold the text of one",
                    field=field,
                    rule="json-object",
                )
        row[alias.alias] = value


def decode_answer(
    dialect: Dialect, infno: str, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], list[AnswerWarning]]:
    """A response envelope spelt in ``dialect``, read back into the national shape.

    Tolerant: a member under the dialect's name is renamed (``dialect-renamed``), a spelt
    code is read as the national one (``local-code``); nothing is refused.

    Example:
        >>> from nhsa.spec import dialect
        >>> national, warnings = decode_answer(dialect("jilin"), "2204", {"infcode": 0,
        ...     "warnMsg": None, "output": {"result": [{"chrgitm_lv": "1"}]}})
        >>> national["output"]["result"][0]["chrgitm_lv"], "warn_msg" in national
        ('01', True)
        >>> for warning in warnings:
        ...     print(warning)
        warnMsg read as warn_msg (jilin)
        result.0.chrgitm_lv '1' read as 01 (jilin's spelling of 甲类)
    """
    warnings: list[AnswerWarning] = []
    national = dict(raw)
    if dialect.is_national:
        return national, warnings
    for alias in dialect.aliases_for(infno, ENVELOPE, "answer"):
        if alias.alias in national and alias.member not in national:
            national[alias.member] = national.pop(alias.alias)
            warnings.append(
                AnswerWarning(
                    "dialect-renamed",
                    f"/{alias.alias}",
                    f"{alias.alias} read as {alias.member} ({dialect.name})",
                )
            )
    output = national.get("output")
    if isinstance(output, dict):
        national["output"] = _read_output(dialect, infno, _copy(output), warnings)
    return national, warnings


def _read_output(
    dialect: Dialect, infno: str, output: dict[str, Any], warnings: list[AnswerWarning]
) -> dict[str, Any]:
    shapes = _shapes(infno, "answer")
    renamed: dict[str, Any] = {}
    for name, node in output.items():
        national_name = dialect.contract_node(infno, name, "answer")
        if national_name != name:
            warnings.append(
                AnswerWarning(
                    "dialect-renamed", f"/output/{name}", f"{name} read as {national_name}"
                )
            )
        renamed[national_name] = node
    for name, node in renamed.items():
        shape = shapes.get(name)
        for index, row in _rows(node):
            where: list[str | int] = ["output", name] if index is None else ["output", name, index]
            for alias in dialect.aliases_for(infno, name, "answer"):
                if alias.alias in row and alias.member not in row:
                    row[alias.member] = row.pop(alias.alias)
                    warnings.append(
                        AnswerWarning(
                            "dialect-renamed",
                            pointer_of([*where, alias.alias]),
                            f"{_path(where, alias.alias)} read as {alias.member} ({dialect.name})",
                        )
                    )
            if shape is not None:
                _read_spellings(dialect, shape, row, where, warnings)
    return renamed


def _read_spellings(
    dialect: Dialect,
    shape: NodeShape,
    row: dict[str, Any],
    where: list[str | int],
    warnings: list[AnswerWarning],
) -> None:
    for member, value in row.items():
        table = _table(shape, member, dialect)
        local = dialect.local_code(table, value) if table and isinstance(value, str) else None
        if local is not None and local.kind == "spelling" and local.national is not None:
            row[member] = local.national
            warnings.append(
                AnswerWarning(
                    "local-code",
                    pointer_of([*where, member]),
                    f"{_path(where, member)} {value!r} read as {local.national} "
                    f"({dialect.name}'s spelling of {local.name})",
                )
            )


def _coded(
    dialect: Dialect, infno: str, side: Literal["request", "answer"], node: str
) -> Mapping[str, str]:
    """Members of ``node`` whose code table the dialect extends or respells → that table."""
    tables = dialect.tables_with_local_codes()
    if not tables:
        return {}
    shape = _shapes(infno, side).get(node)
    if shape is None:
        return {}
    return {
        member: field.code_table
        for member, field in shape.members.items()
        if field.code_table in tables
    }


def _table(shape: NodeShape, member: str, dialect: Dialect) -> str | None:
    field = shape.members.get(member)
    table = field.code_table if field is not None else None
    return table if table in dialect.tables_with_local_codes() else None


def _path(where: list[str | int], member: str) -> str:
    return ".".join(str(step) for step in [*where[1:], member])


def local_code_warnings(
    dialect: Dialect, infno: str, warnings: list[AnswerWarning], output: Mapping[str, Any]
) -> list[AnswerWarning]:
    """The contract's warnings of an answer with the dialect's knowledge applied: a code the
    dialect lists becomes ``local-code`` (named), a member it declares is no longer unknown.

    Example:
        >>> from nhsa.spec import dialect
        >>> found = [AnswerWarning("unknown-code", "/output/setlinfo/med_type", "…")]
        >>> out = {"setlinfo": {"med_type": "140104"}}
        >>> [str(w) for w in local_code_warnings(dialect("jilin"), "2207", found, out)]
        ["setlinfo.med_type '140104' is a local code of jilin (门诊慢病, within 14)"]
    """
    if dialect.is_national:
        return warnings
    shapes = _shapes(infno, "answer")
    kept: list[AnswerWarning] = []
    for warning in warnings:
        steps: list[str | int] = [
            int(s) if s.isdigit() else s for s in warning.pointer.split("/")[2:]
        ]
        names = [str(s) for s in steps if isinstance(s, str)]
        if not names:
            kept.append(warning)
            continue
        node, member = (_ROOT["answer"], names[0]) if len(names) == 1 else (names[0], names[-1])
        if warning.kind == "unknown-code":
            shape = shapes.get(node)
            table = _table(shape, member, dialect) if shape is not None else None
            value = _value_at(output, steps)
            local = dialect.local_code(table, value) if table and isinstance(value, str) else None
            if local is not None:
                within = f", within {local.national}" if local.national else ""
                kept.append(
                    AnswerWarning(
                        "local-code",
                        warning.pointer,
                        f"{'.'.join(map(str, steps))} {value!r} is a local code of "
                        f"{dialect.name} ({local.name}{within})",
                    )
                )
                continue
        if warning.kind == "unknown-member" and any(
            e.member == member for e in dialect.extras_for(infno, node, "answer")
        ):
            continue  # a member this dialect is known to answer with
        kept.append(warning)
    return kept


def _value_at(node: Any, steps: list[str | int]) -> Any:
    for step in steps:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
        elif isinstance(node, Mapping):
            node = node.get(str(step))
        else:
            return None
    return node


# -- the mock's side: decode requests, encode answers -------------------------------------------


def decode_request(
    dialect: Dialect, document: Mapping[str, Any]
) -> tuple[dict[str, Any], list[ValidationIssue]]:
    """A request spelt in ``dialect``, in the national shape, and where it breaks the dialect.

    The national view is always made (tolerantly: a national spelling stays as it is); the
    issues say each place the request is not in this dialect — a national spelling where the
    dialect has another, a node under its national name, a missing member the dialect requires,
    an extra member too long, a local code with no national equivalent — each naming the
    member and the rule.
    """
    national = dict(document)
    issues: list[ValidationIssue] = []
    if dialect.is_national:
        return national, issues
    infno = str(document.get("infno"))
    for member in dialect.envelope_members(infno, "request"):
        if member.required and not document.get(member.member):
            issues.append(
                ValidationIssue(
                    f"/{member.member}",
                    "required-by-dialect",
                    f"{member.member}: the {dialect.name} platform requires it in every envelope "
                    f"({member.evidence})",
                )
            )
    nodes = document.get("input")
    if not isinstance(nodes, dict):
        return national, issues
    national["input"] = _decode_nodes(dialect, infno, _fast_copy(nodes), issues)
    return national, issues


def _fast_copy(value: Any) -> Any:
    """A copy of parsed JSON: a JSON round trip is several times faster than a walk; values
    JSON lacks (a transcript read in-process holds Decimal amounts) are copied by the walk."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return _copy(value)


def _decode_nodes(
    dialect: Dialect, infno: str, nodes: dict[str, Any], issues: list[ValidationIssue]
) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, node in nodes.items():
        national_name = dialect.contract_node(infno, name, "request")
        alias = dialect.node_name(infno, name, "request")
        if alias != name and alias not in nodes:
            issues.append(
                ValidationIssue(
                    f"/input/{name}",
                    "dialect-node",
                    f"input.{name}: the {dialect.name} platform names this node {alias}",
                )
            )
        decoded[national_name] = node
    for name, node in decoded.items():
        coded = _coded(dialect, infno, "request", name)
        for index, row in _rows(node):
            _decode_row(_Place(dialect, infno, name, index), row, coded, issues)
    _take_extras(_Place(dialect, infno, _ROOT["request"]), decoded, issues)
    return decoded


def _decode_row(
    place: _Place, row: dict[str, Any], coded: Mapping[str, str], issues: list[ValidationIssue]
) -> None:
    dialect = place.dialect
    for alias in dialect.aliases_for(place.infno, place.node, "request"):
        if alias.alias in row:
            value = row.pop(alias.alias)
            if alias.value == "json-object" and value is not None:
                if isinstance(value, dict):
                    value = orjson.dumps(value).decode()
                else:
                    issues.append(
                        ValidationIssue(
                            place.pointer(alias.alias),
                            "json-object",
                            f"{place.field(alias.alias)}: the {dialect.name} platform takes a "
                            f"JSON object here, not {type(value).__name__}",
                        )
                    )
            row[alias.member] = value
        elif alias.member in row:
            issues.append(
                ValidationIssue(
                    place.pointer(alias.member),
                    "dialect-spelling",
                    f"{place.field(alias.member)}: the {dialect.name} platform spells it "
                    f"{alias.alias} ({alias.evidence})",
                )
            )
    _take_extras(place, row, issues)
    if coded:
        _decode_codes(place, coded, row, issues)


def _take_extras(place: _Place, row: dict[str, Any], issues: list[ValidationIssue]) -> None:
    dialect = place.dialect
    for extra in dialect.extras_for(place.infno, place.node, "request"):
        value = row.pop(extra.member, None)
        field = place.field(extra.member)
        if value in (None, ""):
            if extra.required:
                issues.append(
                    ValidationIssue(
                        place.pointer(extra.member),
                        "required-by-dialect",
                        f"{field}: required by the {dialect.name} platform ({extra.title}; "
                        f"{extra.evidence})",
                    )
                )
        elif extra.max_length is not None and len(str(value)) > extra.max_length:
            issues.append(
                ValidationIssue(
                    place.pointer(extra.member),
                    "maxLength",
                    f"{field}: longer than {extra.max_length} characters",
                )
            )


def _decode_codes(
    place: _Place, coded: Mapping[str, str], row: dict[str, Any], issues: list[ValidationIssue]
) -> None:
    dialect = place.dialect
    for member, table in coded.items():
        value = row.get(member)
        local = dialect.local_code(table, value) if isinstance(value, str) else None
        if local is None:
            continue
        if local.national is not None:
            row[member] = local.national
            continue
        issues.append(
            ValidationIssue(
                place.pointer(member),
                "local-code",
                f"{place.field(member)} {value!r} is a local code of {dialect.name} "
                f"({local.name}) with no national equivalent: this mock cannot settle it",
            )
        )


def encode_answer(dialect: Dialect, infno: str, envelope: Mapping[str, Any]) -> dict[str, Any]:
    """A national response envelope spelt in ``dialect`` (what the mock in it sends).

    Example:
        >>> from nhsa.spec import dialect
        >>> encode_answer(dialect("jilin"), "9001", {"infcode": 0, "warn_msg": None})
        {'infcode': 0, 'warnMsg': None}
    """
    encoded: dict[str, Any] = {}
    for name, value in envelope.items():
        alias = dialect.member_alias(infno, ENVELOPE, name, "answer")
        encoded[alias or name] = value
    for member in dialect.envelope_members(infno, "answer"):
        if isinstance(member.fill, tuple) and member.fill[0] == "constant":
            encoded.setdefault(member.member, member.fill[1])
    success = dialect.warn_msg_on_success
    warn = dialect.member_alias(infno, ENVELOPE, "warn_msg", "answer") or "warn_msg"
    if success is not None and envelope.get("infcode") == 0 and not envelope.get("warn_msg"):
        encoded[warn] = str(success.value)
    output = envelope.get("output")
    if isinstance(output, dict) and not dialect.is_national:
        encoded["output"] = _spell_output(dialect, infno, _copy(output))
    return encoded


def _spell_output(dialect: Dialect, infno: str, output: dict[str, Any]) -> dict[str, Any]:
    shapes = _shapes(infno, "answer")
    spelt: dict[str, Any] = {}
    for name, node in output.items():
        shape = shapes.get(name)
        for _, row in _rows(node):
            for alias in dialect.aliases_for(infno, name, "answer"):
                if alias.member in row:
                    row[alias.alias] = row.pop(alias.member)
            if shape is not None:
                for member, value in row.items():
                    table = _table(shape, member, dialect)
                    spelling = (
                        dialect.spelling(table, value) if table and isinstance(value, str) else None
                    )
                    if spelling is not None:
                        row[member] = spelling
        spelt[dialect.node_name(infno, name, "answer")] = node
    return spelt


# -- answers that are not envelopes -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShapeReading:
    """What a body in one of the dialect's answer shapes means.

    Attributes:
        shape: the shape it has.
        envelope: a wrapper's envelope when its code is ok; else ``None``.
        message: the shape's message text (``None`` for an ok wrapper).
        code: the shape's code as sent.
    """

    shape: AnswerShape
    envelope: dict[str, Any] | None
    message: str | None
    code: object

    @property
    def definite_refusal(self) -> bool:
        """A refusal the profile calls definite: the platform did nothing."""
        return self.envelope is None and self.shape.definite

    def describe(self, dialect: Dialect) -> str:
        """One line naming the shape, its code and message."""
        return (
            f"{dialect.name} {self.shape.name} (code {self.code!r}): "
            f"{self.message or '(no message)'}"
        )


def read_shape(dialect: Dialect, body: Mapping[str, Any]) -> ShapeReading | None:
    """The body read as one of ``dialect``'s answer shapes, or ``None`` when it has none.

    Example:
        >>> from nhsa.spec import dialect
        >>> reading = read_shape(dialect("hunan"), {"code": "999", "msg": "云助手系统内部错误"})
        >>> reading.shape.name, reading.definite_refusal
        ('hgs-helper-error', False)
        >>> read_shape(dialect("guangdong"), {"code": "0", "type": "s", "message": "ok",
        ...                                   "data": {"infcode": 0}}).envelope
        {'infcode': 0}
    """
    shape = dialect.shape_of(body)
    if shape is None:
        return None
    code = body.get(shape.members["code"])
    message = body.get(shape.members["message"])
    text = str(message) if message not in (None, "") else None
    if shape.kind == "wrapper" and str(code) in shape.ok_codes:
        data = body.get(shape.members["data"])
        if isinstance(data, str):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError:
                data = None
        return ShapeReading(shape, data if isinstance(data, dict) else {}, None, code)
    return ShapeReading(shape, None, text, code)


def gateway_refusal_body(
    dialect: Dialect, status: int, err_msg: str, envelope: Callable[[], Mapping[str, Any]]
) -> Mapping[str, Any]:
    """The body the mock in ``dialect`` answers a gateway refusal with: the dialect's gateway
    shape, or the envelope ``envelope()`` builds when it has none.

    Example:
        >>> from nhsa.spec import dialect
        >>> gateway_refusal_body(dialect("hunan"), 401, "签名不一致! (…)", dict)
        {'code': 401, 'message': '签名不一致! (…)'}
    """
    shape = dialect.gateway_shape()
    if shape is None:
        return envelope()
    code: object = str(status) if shape.kind == "wrapper" else status
    if shape.codes and code not in shape.codes:
        code = shape.codes[0]
    body: dict[str, Any] = {shape.members["code"]: code}
    if "type" in shape.members:
        body[shape.members["type"]] = "error"
    body[shape.members["message"]] = err_msg
    if "data" in shape.members:
        body[shape.members["data"]] = None
    return body

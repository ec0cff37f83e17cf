"""The err_msg of every answer the server gives before the engine is reached.

Each says what is wrong and what to do, Chinese first, then English. Wordings from
``interface_specs/v1/errors.json`` are used where the catalogue has one (``报文格式错误``,
``报文校验失败``, ``交易编号不存在``, ``发送方报文ID重复``, ``非法用户``); the rest are ours.

Example:
    >>> body_too_large(2_000_000, 1_048_576).startswith("报文过大")
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from nhsa.spec import ValidationIssue

__all__ = [
    "MAX_ERR_MSG",
    "bad_http_message",
    "body_too_large",
    "contract_violation",
    "fault_header_invalid",
    "internal_error",
    "malformed_json",
    "method_not_allowed",
    "path_infno_mismatch",
    "too_deep",
    "unknown_infno",
    "unknown_path",
    "unregistered_institution",
    "unsupported_content_type",
]

MAX_ERR_MSG: Final = 2000
"""Readers accept err_msg up to 2000 characters (the response envelope schema)."""


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERR_MSG else text[: MAX_ERR_MSG - 1] + "…"


def body_too_large(size: int, limit: int) -> str:
    """The answer to a body over the size limit."""
    return (
        f"报文过大：{size} 字节，上限 {limit} 字节 / body: {size} bytes breaks the rule "
        f"max-size ({limit} bytes); split fee details over several 2204 calls"
    )


def unsupported_content_type(value: str) -> str:
    """The answer to a body declared as something other than UTF-8 JSON text.

    Example:
        >>> unsupported_content_type("application/x-www-form-urlencoded")[:10]
        '请求内容类型不支持：'
    """
    return _clip(
        f"请求内容类型不支持：{value} / content-type: {value!r} breaks the rule json-content-type; "
        "send the envelope as Content-Type: application/json (charset utf-8), or text/plain; "
        "charset=utf-8"
    )


def bad_http_message(detail: str) -> str:
    """The answer to bytes that are not a valid HTTP request (two Content-Length headers, …).

    Example:
        >>> bad_http_message("Duplicate Content-Length").split(" / ")[0]
        '请求报文不是合法的HTTP请求：Duplicate Content-Length'
    """
    return _clip(
        f"请求报文不是合法的HTTP请求：{detail} / HTTP request: breaks the rule http-message "
        f"({detail}); send one Content-Length header (or chunked encoding) and a well-formed "
        "request line and headers"
    )


def malformed_json(detail: str) -> str:
    """The answer to a body that is not a JSON object.

    Example:
        >>> malformed_json("unexpected character: line 1 column 2 (char 1)")[:7]
        '报文格式错误：'
    """
    return _clip(
        f"报文格式错误：{detail} / body: breaks the rule json-object ({detail}); send the "
        "envelope as one UTF-8 JSON object"
    )


def too_deep(limit: int, pointer: str | None) -> str:
    """The answer to a body nested deeper than ``limit`` (at ``pointer``, when it parsed).

    Example:
        >>> too_deep(32, "/input/x/x").split(" / ")[1]
        'input.x: breaks the rule max-depth (nested deeper than 32 levels, at /input/x/x); \
the contract nests at most 4 levels (envelope, input, node, list item)'
    """
    parts = [p for p in (pointer or "").split("/")[1:3] if p]
    field = ".".join(parts) if parts else "body"
    where = f", at {pointer}" if pointer else ""
    return _clip(
        f"报文格式错误：JSON 嵌套超过 {limit} 层 / {field}: breaks the rule max-depth (nested "
        f"deeper than {limit} levels{where}); the contract nests at most 4 levels (envelope, "
        "input, node, list item)"
    )


def contract_violation(issues: Sequence[ValidationIssue]) -> str:
    """The answer to a request that breaks the contract: every issue's pointer and rule.

    Example:
        >>> text = contract_violation([ValidationIssue("/input/data/psn_no", "required", "x")])
        >>> text.split(" / ")[0]
        '报文校验失败：/input/data/psn_no required'
    """
    pairs = "；".join(f"{issue.pointer or '/'} {issue.rule}" for issue in issues)
    first = issues[0]
    more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
    return _clip(
        f"报文校验失败：{pairs} / the request breaks the contract (pointer rule): "
        f"{first.pointer or '/'} {first.rule} — {first.message}{more}"
    )


def dialect_violation(dialect: str, issues: Sequence[ValidationIssue]) -> str:
    """The answer to a request not in the platform's province dialect: each member named.

    Example:
        >>> issue = ValidationIssue("/input/data/refd_setl_flag", "dialect-spelling",
        ...                         "data.refd_setl_flag: the guangdong platform spells it …")
        >>> dialect_violation("guangdong", [issue]).split(" / ")[0]
        '报文不符合guangdong规范：/input/data/refd_setl_flag dialect-spelling'
    """
    pairs = "；".join(f"{issue.pointer or '/'} {issue.rule}" for issue in issues)
    messages = "; ".join(issue.message for issue in issues[:3])
    more = f" (+{len(issues) - 3} more)" if len(issues) > 3 else ""
    return _clip(
        f"报文不符合{dialect}规范：{pairs} / the request is not in the {dialect} dialect of "
        f"this platform: {messages}{more}"
    )


def not_an_entry(path: str, dialect: str, entries: Sequence[str]) -> str:
    """The answer to a business path that is not an entry of the platform's dialect."""
    where = " or ".join(entries) or "(none for this infno)"
    return _clip(
        f"请求路径不是本平台入口：{path} / path: {path!r} breaks the rule dialect-entry; the "
        f"{dialect} platform takes this transaction at {where}"
    )


def unknown_infno(infno: str, known: Sequence[str]) -> str:
    """The answer to an infno the platform does not serve."""
    return _clip(
        f"交易编号不存在：{infno} / infno: {infno!r} breaks the rule known-transaction; this "
        f"platform serves {', '.join(known)}"
    )


def unregistered_institution(code: str | None) -> str:
    """The gateway's answer to an institution that is not registered."""
    who = code if code else "(none given)"
    return (
        f"非法用户: fixmedins_code {who} breaks the rule registered-institution; register the "
        "institution (POST /admin/institutions, or list it in the fixtures) before calling"
    )


def path_infno_mismatch(path: str, path_infno: str, body_infno: str) -> str:
    """The answer to a per-transaction path whose infno differs from the body's."""
    return (
        f"交易编号与请求路径不符：路径对应【{path_infno}】，报文为【{body_infno}】 / infno: "
        f"{body_infno!r} breaks the rule matches-path ({path} serves {path_infno}); post "
        "to the path of the body's infno or to /fsi/api/rsfComIfsService/callService"
    )


def unknown_path(path: str, served: str | None = None) -> str:
    """The answer to a URL the platform does not serve; ``served`` is the path it does serve
    when this one differs only by a trailing slash.

    Example:
        >>> unknown_path("/fsi/api/x/", "/fsi/api/x").split("; ")[1]
        'drop the trailing slash: post to /fsi/api/x'
    """
    fix = (
        f"drop the trailing slash: post to {served}"
        if served is not None
        else "post to /fsi/api/rsfComIfsService/callService or a transaction's own path "
        "(nhsa spec list)"
    )
    return f"请求路径不存在：{path} / path: {path!r} breaks the rule known-path; {fix}"


def method_not_allowed(method: str) -> str:
    """The answer to a method other than POST on a business path."""
    return (
        f"请求方法不支持：{method} / method: {method} breaks the rule post-only; the "
        "platform's business endpoints take POST"
    )


def fault_header_invalid(detail: str) -> str:
    """The answer to an ``x-mock-fault`` header that cannot be armed."""
    return _clip(f"x-mock-fault 无效：{detail} / {detail}; fix the header or remove it")


def internal_error(kind: str) -> str:
    """The answer when the engine failed unexpectedly (the transaction was rolled back)."""
    return (
        f"模拟平台内部错误，交易未生效 / mock internal error ({kind}): the transaction was "
        "rolled back and nothing was booked; the server log has the details"
    )


def not_durable(reason: str) -> str:
    """The answer when the COMMIT covering the request failed (its whole group rolled back)."""
    return (
        f"模拟平台未能保存，交易未生效 / mock could not make the change durable ({reason}): "
        "it was rolled back and nothing was booked; send the request again"
    )

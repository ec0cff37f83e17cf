"""A transport around the in-process mock that changes the shape of its answers.

Real platforms answer in shapes the contract does not promise: members left out or null,
local codes, members of their own, infcode as a string. :class:`Reshaping` lets a test give
the mock's answers such a shape — by hand (:func:`without`, :func:`with_value`) or like a
recorded answer of the corpus (:func:`like`) — while the mock keeps the real state and
transcript behind them. Only unsigned answers (profile ``none``) can be reshaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson

from nhsa.client import LOAD_BEARING
from nhsa.spec import contract, iter_fields

Reshape = Callable[[dict[str, Any]], dict[str, Any]]


class Reshaping(httpx.BaseTransport):
    """``inner``'s answers, each JSON answer to an infno in ``reshapes`` passed through it."""

    def __init__(self, inner: httpx.BaseTransport, reshapes: Mapping[str, Reshape]) -> None:
        self.inner = inner
        self.reshapes = dict(reshapes)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        reshape = self.reshapes.get(orjson.loads(request.content)["infno"])
        body = response.read()
        if reshape is None or not body.lstrip().startswith(b"{"):
            return response
        headers = {"content-type": response.headers.get("content-type", "application/json")}
        content = orjson.dumps(reshape(orjson.loads(body)))
        return httpx.Response(response.status_code, headers=headers, content=content)


def _steps(member: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in member.split("."):
        name, _, index = part.partition("[")
        steps.append(name)
        if index:
            steps.append(int(index.rstrip("]")))
    return steps


def without(member: str) -> Reshape:
    """Remove ``member`` (``setlinfo.setl_id``, ``insuinfo[0].insuplc_admdvs``) of a success."""
    return with_value(member, None, remove=True)


def with_value(member: str, value: Any, *, remove: bool = False) -> Reshape:
    """Set ``member`` of a success answer's output to ``value`` (or remove it)."""

    def reshape(envelope: dict[str, Any]) -> dict[str, Any]:
        if envelope.get("infcode") not in (0, "0"):
            return envelope
        *path, last = _steps(member)
        node: Any = envelope["output"]
        for step in path:
            node = node[step]
        if remove:
            del node[last]
        else:
            node[last] = value
        return envelope

    return reshape


def like(infno: str, recorded: Mapping[str, Any]) -> Reshape:
    """Give an answer to ``infno`` the shape of a ``recorded`` one of the same transaction:
    the members it leaves out or sends null are left out or null (unless the SDK needs them),
    its local codes and its own members are carried over, and so are infcode as a string and
    the envelope members it adds. The mock's values — ids, amounts — stay: they are the state.
    """
    fields = list(
        iter_fields(contract(), f"{contract().transaction(infno).schema_id}#/$defs/output")
    )
    tables = {f.path: f.code_table for f in fields if f.code_table}
    needed = {need.member for need in LOAD_BEARING.get(infno, ())}
    known = {f.path for f in fields}

    def reshape(envelope: dict[str, Any]) -> dict[str, Any]:
        if envelope.get("infcode") not in (0, "0"):
            return envelope
        for name, value in recorded.items():
            if name not in envelope and name != "output":
                envelope[name] = value
        if isinstance(recorded.get("infcode"), str):
            envelope["infcode"] = str(envelope["infcode"])
        shaped = envelope.get("output") or {}
        _shape(shaped, dict(recorded.get("output") or {}), "", tables, needed, known)
        envelope["output"] = shaped
        return envelope

    return reshape


def _shape(
    ours: dict[str, Any],
    theirs: dict[str, Any],
    prefix: str,
    tables: Mapping[str, str],
    needed: set[str],
    known: set[str],
) -> None:
    for name in list(ours):
        path = prefix + name
        if name not in theirs:
            if path in known and path not in needed:
                del ours[name]
            continue
        value = theirs[name]
        if value is None and path not in needed:
            ours[name] = None
        elif isinstance(value, dict) and isinstance(ours[name], dict):
            _shape(ours[name], value, path + ".", tables, needed, known)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in ours[name] or []:
                _shape(item, value[0], path + "[].", tables, needed, known)
        elif path in tables and value not in contract().code_table(tables[path]):
            ours[name] = value  # the recorded answer's local code
    for name, value in theirs.items():
        if name not in ours and prefix + name not in known:
            ours[name] = value  # a member of the platform's own

"""What the server hands the engine (:class:`Call`), what it gets back (:class:`Answer`), and
the engine's switches (:class:`EngineOptions`).

Example:
    >>> answer = Answer.ok({"signinoutb": {"sign_no": "600000000001"}}, changed=True)
    >>> answer.infcode, answer.err_msg, answer.state_changed
    (0, None, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request, after the server's gateway, signature and contract checks passed.

    Example::

        call = Call("H53010100001", "2207", envelope["msgid"], envelope, received_at)
    """

    tenant: str
    """The institution (``fixmedins_code``) whose state the call sees."""
    infno: str
    msgid: str
    envelope: Mapping[str, Any]
    """The parsed request envelope; amounts may be float or Decimal (read through nhsa.models)."""
    received_at: datetime
    """When the platform received the request, China time (``nhsa.envelope.CHINA_TIME``)."""

    @cached_property
    def psn_no(self) -> str | None:
        """The person the call names: ``psn_no`` of its first input node that carries one.

        A node is an object, or a list whose first row is read (2204 ``feedetail``). The
        engine remembers it with the msgid (a 2601 must name the same person) and the server
        scopes faults by it, so both read the person the same way.

        Example:
            >>> Call("H1", "2204", "m1", {"input": {"feedetail": [{"psn_no": "P1"}]}},
            ...      datetime(2026, 11, 23)).psn_no
            'P1'
        """
        nodes = self.envelope.get("input")
        if not isinstance(nodes, Mapping):
            return None
        for node in nodes.values():
            row = node[0] if isinstance(node, list) and node else node
            if isinstance(row, Mapping) and isinstance(row.get("psn_no"), str):
                return str(row["psn_no"])
        return None


@dataclass(frozen=True)
class Answer:
    """The engine's answer; the server wraps it in a response envelope.

    - ``err_msg`` (infcode -1) says what is wrong and what to do, Chinese first, English after;
    - ``warn_msg`` is a note on a success (e.g. 2601 of a msgid never received): the server
      puts it in the envelope's ``warn_msg``;
    - ``output`` is wire-ready (Decimal amounts; ``nhsa.envelope.dumps`` encodes them exactly);
    - ``file`` carries the raw bytes of a 9102 download: the server answers them as the body
      (``application/octet-stream``) instead of a JSON envelope, and ``output`` is ``{}``;
    - ``error`` names a refusal's entry in ``interface_specs/v1/errors.json`` (e.g.
      ``business.illegal_state``), so a check can judge a refusal without parsing its text.

    Example:
        >>> answer = Answer.failed("就诊信息不存在 / visit not found", "business.visit_not_found")
        >>> answer.infcode, answer.error
        (-1, 'business.visit_not_found')
    """

    infcode: int
    err_msg: str | None
    output: Mapping[str, Any] | None
    state_changed: bool
    effects: Mapping[str, str] = field(default_factory=dict)
    warn_msg: str | None = None
    file: bytes | None = None
    error: str | None = None

    @classmethod
    def ok(
        cls,
        output: Mapping[str, Any] | None = None,
        *,
        changed: bool = False,
        effects: Mapping[str, str] | None = None,
        warn_msg: str | None = None,
        file: bytes | None = None,
    ) -> Answer:
        """A success (infcode 0)."""
        return cls(
            0, None, output if output is not None else {}, changed, effects or {}, warn_msg, file
        )

    @classmethod
    def failed(cls, err_msg: str, error: str) -> Answer:
        """A definite refusal (infcode -1) of kind ``error``; nothing was written."""
        return cls(-1, err_msg, None, False, {}, error=error)


@dataclass(frozen=True)
class EngineOptions:
    """Switches for behaviour that differs between provinces (reference §5.3, §7).

    Example::

        engine = Engine(store, bundled_fixtures(), options=EngineOptions(enforce_sign_in=False))
    """

    enforce_sign_in: bool = True
    """A business call needs a ``sign_no`` from a 9001 of the same day that was not signed out."""
    require_visit_info: bool = True
    """Fee details (2204) need the visit information (2203/2203A) first."""
    require_presettlement: bool = True
    """2207 needs a 2206 of exactly the lines it settles (no upload or cancel in between)."""
    file_valid_for: timedelta = timedelta(days=1)
    """How long a file (9101 upload, 3202 result) can be downloaded: its ``dld_endtime``."""

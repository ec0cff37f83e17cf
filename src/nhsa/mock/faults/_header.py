"""The test-only ``x-mock-fault`` request header: a fault for this one request.

Syntax: the kind, then optional ``;name=value`` parameters::

    x-mock-fault: commit-then-drop
    x-mock-fault: commit-then-drop; mode=reset
    x-mock-fault: latency; ms=250
    x-mock-fault: http-error; status=504; after_commit=true

Scope and trigger parameters (``infno``, ``psn_no``, ``area``, ``times``, ``probability``,
``seed``) make no sense for a single request and are refused. The server honours the header
only when started with ``--allow-fault-header`` (``MockPlatform`` enables it by default);
otherwise it is ignored, like any unknown header on the real platform.

Example:
    >>> parse_fault_header("latency; ms=250").ms
    250
"""

from __future__ import annotations

from typing import Final

from nhsa.mock.faults._model import FaultSpec, FaultSpecError, parse_fault_spec

__all__ = ["FAULT_HEADER", "parse_fault_header"]

FAULT_HEADER: Final = "x-mock-fault"
_PARAMETERS: Final = frozenset({"ms", "status", "after_commit", "err_msg", "mode"})


def parse_fault_header(value: str) -> FaultSpec:
    """The fault a header value names, or :class:`FaultSpecError` naming the bad part.

    Example:
        >>> try:
        ...     parse_fault_header("reset; times=3")
        ... except FaultSpecError as error:
        ...     print(error.field, error.rule)
        times header-parameter
    """
    kind, *parameters = (part.strip() for part in value.split(";"))
    if not kind:
        raise FaultSpecError("kind", "required", f"{FAULT_HEADER} must start with a fault kind")
    data: dict[str, object] = {"kind": kind}
    for parameter in parameters:
        if not parameter:
            continue
        name, separator, raw = (piece.strip() for piece in parameter.partition("="))
        if not separator or not name:
            raise FaultSpecError(
                parameter, "syntax", f"{FAULT_HEADER} parameters are name=value, got {parameter!r}"
            )
        if name not in _PARAMETERS:
            raise FaultSpecError(
                name,
                "header-parameter",
                f"not accepted in {FAULT_HEADER} (a header fault acts on its own request only); "
                f"accepted: {', '.join(sorted(_PARAMETERS))}",
            )
        data[name] = raw
    return parse_fault_spec(data)

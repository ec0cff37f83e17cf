"""The one shape every validation error takes, whichever check found it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One thing wrong with a message.

    Attributes:
        pointer: JSON pointer (RFC 6901) to the offending value, e.g. ``/input/data/psn_no``;
            for a missing field it points at where the field should be.
        rule: the rule broken: a JSON Schema keyword (``required``, ``maxLength``, ``enum``, …)
            or a named contract rule (``msgid-prefix``, ``insuplc-when-psn``, ``json``, …).
        message: a sentence a developer can act on; it names the field and the rule.

    Example:
        >>> print(ValidationIssue("/msgid", "maxLength", "msgid: longer than 30 characters"))
        /msgid: [maxLength] msgid: longer than 30 characters
    """

    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: [{self.rule}] {self.message}"


def pointer_of(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """Build a JSON pointer from path parts, escaping ``~`` and ``/`` as RFC 6901 requires."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)

"""The result vocabulary and the one roll-up rule used at every level (scenario, stage, run).

A *step*, a *check*, a *scenario*, a *stage* and the *run* each end in one of five results:

- ``pass``  — done, and what was required held;
- ``fail``  — done, and the HIS did something a requirement forbids (or failed to do what it must);
- ``skip``  — not evaluated, always with a reason (not applicable here, or an earlier step broke);
- ``error`` — could not judge: the driver or the mock broke, a step timed out, a check raised;
- ``wait``  — a manual step is still pending (an operator has not acted yet).

Roll-up (Inferno's rule, with the same order): a group is ``wait`` if any member waits;
otherwise it takes the first of ``error``, ``fail``, ``skip`` that any *required* member has;
otherwise ``pass``. Optional members (checks of SHOULD requirements, or marked ``optional``)
never make a group fail — they are reported with their own result. A group with no required
member passes when at least one optional member passed, and is ``skip`` when nothing ran.

Example:
    >>> roll_up([Member(Status.PASS), Member(Status.FAIL, required=False)])
    <Status.PASS: 'pass'>
    >>> roll_up([Member(Status.PASS), Member(Status.SKIP), Member(Status.ERROR)])
    <Status.ERROR: 'error'>
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["Member", "Status", "roll_up"]


class Status(StrEnum):
    """One result of the fixed vocabulary, compared by how much it says about the HIS.

    Example:
        >>> Status("fail").blocks_exit, Status.PASS.blocks_exit
        (True, False)
    """

    PASS = "pass"  # noqa: S105 - a result name, not a secret
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"
    WAIT = "wait"

    @property
    def blocks_exit(self) -> bool:
        """Whether a run ending in this result must exit non-zero."""
        return self is not Status.PASS


# Among required members, the first of these present decides the group's result.
_PRIORITY: Final = (Status.ERROR, Status.FAIL, Status.SKIP)


@dataclass(frozen=True, slots=True)
class Member:
    """A member's result and whether the group's result depends on it (see :func:`roll_up`)."""

    status: Status
    required: bool = True


def roll_up(members: Iterable[Member]) -> Status:
    """The result of a group from its members' results (see the module docstring).

    Example:
        >>> roll_up([])
        <Status.SKIP: 'skip'>
        >>> roll_up([Member(Status.WAIT, required=False), Member(Status.FAIL)])
        <Status.WAIT: 'wait'>
    """
    items = list(members)
    if any(m.status is Status.WAIT for m in items):
        return Status.WAIT
    required = {m.status for m in items if m.required}
    for status in _PRIORITY:
        if status in required:
            return status
    if required:
        return Status.PASS
    if any(m.status is Status.PASS for m in items):
        return Status.PASS
    return Status.SKIP

"""Start-up recovery: close every journal entry a crash (or a lost answer) left open.

Run ``client.recover()`` when the HIS starts, before it takes patients. For each entry still
``sending``, ``unknown`` or ``reversing``:

- an entry a live process is still ``sending`` is left alone (``in_flight``; entries written
  on another host count as live — only that host can tell);
- a call that is safe to repeat (sign-in, 2601, queries) or an undo call is closed as
  ``abandoned``: it has no effect to undo of its own (an undo's original entry carries the
  resolution);
- anything else is resolved like a live unknown outcome — 2601 for the reversible, the business
  cancel where the journal has its identifiers, else a manual decision — whatever the mode, since
  nobody is at the counter to decide during start-up. ``held`` entries stay for the cashier.

Visit guards left by crashed processes are cleared first.

Example:
    >>> from nhsa.client import ClientConfig, WindowMode
    >>> from nhsa.client._core import Core
    >>> core = Core(ClientConfig("H53010100001", "医院", "530100", journal_path=":memory:"),
    ...             WindowMode("C0001", "收费员甲"))
    >>> run = recover(core)
    >>> try:
    ...     next(run)
    ... except StopIteration as done:
    ...     done.value.clean
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nhsa.client._flow import Flow
from nhsa.client._resolution import resolve
from nhsa.client._results import RecoveredEntry, RecoveryReport

if TYPE_CHECKING:
    from nhsa.client._core import Core


def recover(core: Core) -> Flow[RecoveryReport]:
    """Resolve every open entry of this institution (see the module docstring)."""
    cleared = core.journal.clear_stale_guards()
    resolved: list[RecoveredEntry] = []
    abandoned: list[str] = []
    in_flight: list[str] = []
    for entry in core.journal.pending(core.tenant):
        if entry.state == "sending" and entry.owner_alive:
            in_flight.append(entry.msgid)
            continue
        transaction = core.transaction(entry.infno)
        if transaction.safe_to_repeat or entry.reverses is not None:
            detail = (
                "undo call whose outcome was never learned; its original entry "
                f"{entry.reverses} carries the resolution"
                if entry.reverses
                else "safe to repeat; outcome never learned, nothing to undo"
            )
            core.journal.mark(entry.msgid, "abandoned", detail=detail)
            abandoned.append(entry.msgid)
            continue
        if entry.state == "sending":
            core.journal.mark(entry.msgid, "unknown", detail="found in 'sending' at recovery")
        resolution = yield from resolve(core, entry.msgid, hold=False)
        resolved.append(RecoveredEntry(entry.msgid, entry.infno, resolution))
    held = tuple(e.msgid for e in core.journal.entries(core.tenant, states=["held"]))
    return RecoveryReport(tuple(resolved), held, tuple(abandoned), tuple(in_flight), cleared)

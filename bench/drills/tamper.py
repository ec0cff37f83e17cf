"""Tamper and replay drill: signed requests changed by one byte, replayed, or stale, against
``nhsa mock serve`` over a real socket — for the profiles that sign (``tif``, ``sm2``,
``tif+sm2``), one institution each.

Each trial builds one request that would change state if accepted (a 9001 sign-in of a new
operator, or a 2201 registration), sealed and stamped as the SDK does, and then sends:

1. **before** the original — so that a forgery accepted would book the state change the
   original was to make, and could not hide behind "duplicate msgid":
   - *body*: one byte of the signed body changed (``sm2``; with fresh valid gateway headers
     under ``tif+sm2``, so that the seal alone must catch it). ``tif`` alone does not cover
     the body — its signature is ``sha256(timestamp + token + nonce + timestamp)`` — so a body
     change there is not a forgery and is not sent;
   - *header*: one byte of an ``x-tif-*`` header's name or value changed (``tif``);
   - *signature*: one byte of the SM2 signature in ``cainfo`` changed (``sm2``) or of
     ``x-tif-signature`` (``tif``), and the original ``cainfo`` moved onto another request;
2. the original, which must be accepted;
3. **after** it — *replay*: the same bytes and headers again, and (``tif``) the same body with
   fresh gateway headers: refused as a replayed nonce or a reused msgid;
4. *stale*: a new request whose ``x-tif-timestamp`` is 301 s to a day away, correctly signed
   for that time (``tif``).

Columns: requests of each kind, refused (must be all), state changes (business rows counted
before and after each step, and every transcript record's ``state_changed``; must be 0), and
originals accepted (must be every trial — else the trial proves nothing).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from nhsa.signing import tif_signature

from ._http import Answer, RawRequest
from ._report import show, write
from ._server import MockServer
from ._state import BUSINESS_TABLES, Transcript, connect
from ._target import CODES, Case, Target, registration_request, sign_in_request

__all__ = ["KINDS", "TamperResult", "run"]

PROFILES: Final = ("tif", "sm2", "tif+sm2")
KINDS: Final = ("body", "header", "signature", "replay", "stale")
_CAINFO = re.compile(rb'"cainfo":"([0-9a-f]{16}):([A-Za-z0-9+/=]+)"')


@dataclass
class Tally:
    """One profile's requests and results by kind."""

    sent: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    state_changes: int = 0
    trials: int = 0
    originals_accepted: int = 0
    examples: list[str] = field(default_factory=list)

    def count(self, kind: str, what: str, answer: Answer) -> None:
        """Count one forged or replayed request and whether it was refused: infcode -1, or
        an HTTP 4xx (a header name no HTTP parser accepts never reaches the platform)."""
        self.sent[kind] += 1
        envelope = answer.envelope()
        refused = envelope["infcode"] != 0 if envelope is not None else 400 <= answer.status < 500
        if refused:
            self.refused[kind] += 1
        elif len(self.examples) < 5:
            self.examples.append(f"{kind} {what}: HTTP {answer.status} {answer.body[:200]!r}")

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "sent": dict(self.sent),
            "refused": dict(self.refused),
            "state_changes": self.state_changes,
            "trials": self.trials,
            "originals_accepted": self.originals_accepted,
            "examples": self.examples,
        }


@dataclass
class TamperResult:
    """Every profile's tally, the run's size, seed and time."""

    tallies: dict[str, Tally]
    seconds: float
    seed: int

    def not_refused(self) -> int:
        """Forged or replayed requests that were not refused, all profiles."""
        return sum(sum(t.sent.values()) - sum(t.refused.values()) for t in self.tallies.values())

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "profiles": {p: t.as_json() for p, t in self.tallies.items()},
        }


class _Counts:
    """Business rows per table (cheap enough to read around every step)."""

    def __init__(self, db: Path) -> None:
        self._connection = connect(db)

    def read(self) -> tuple[int, ...]:
        return tuple(
            int(self._connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in BUSINESS_TABLES
        )

    def close(self) -> None:
        self._connection.close()


class _Trial:
    """One trial of one profile: the original request and its forgeries."""

    def __init__(self, target: Target, rng: random.Random, tally: Tally) -> None:
        self.target, self.rng, self.tally = target, rng, tally
        profile = target.signing.profile
        self.tif, self.sm2 = profile.tif, profile.sm2
        build = sign_in_request if rng.random() < 0.5 else registration_request
        self.original = target.build(Case("tamper", "original", (), build(target)))

    def forgeries(self) -> list[tuple[str, str, RawRequest]]:
        """(kind, what, request) sent before the original."""
        forged: list[tuple[str, str, RawRequest]] = []
        body = self.original.body
        if self.sm2:
            for _ in range(2):
                at, changed = self._one_byte(body, outside=_signature_span(body))
                fresh = self.target.build(Case("tamper", "body", (), raw=changed))
                forged.append(("body", f"byte {at} of the body", fresh))
            for _ in range(2):
                forged.append(("signature", *self._signature_byte()))
            forged.append(("signature", "cainfo moved onto another request", self._transplant()))
        if self.tif:
            for _ in range(2):
                forged.append(("header", *self._header_byte(signature=False)))
            forged.append(("signature", *self._header_byte(signature=True)))
        return forged

    def replays(self) -> list[tuple[str, str, RawRequest]]:
        """(kind, what, request) sent after the original."""
        replays = [("replay", "the same bytes and headers", self.original)]
        if self.tif:
            fresh = self.target.build(Case("tamper", "replay", (), raw=self.original.body))
            replays.append(("replay", "the same body, fresh gateway headers", fresh))
            replays.append(("stale", *self._stale()))
        return replays

    # -- forgeries -----------------------------------------------------------------------

    def _one_byte(self, data: bytes, outside: tuple[int, int] | None = None) -> tuple[int, bytes]:
        while True:
            at = self.rng.randrange(len(data))
            if outside is not None and outside[0] <= at < outside[1]:
                continue
            value = self.rng.randrange(256)
            if value != data[at]:
                return at, data[:at] + bytes([value]) + data[at + 1 :]

    def _signature_byte(self) -> tuple[str, RawRequest]:
        body = self.original.body
        found = _CAINFO.search(body)
        assert found is not None, "an sm2 body carries cainfo"
        start, end = found.span(2)
        signature = base64.b64decode(found.group(2))
        while True:
            at = self.rng.randrange(start, end)
            value = self.rng.choice(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            )
            if value == body[at]:
                continue
            changed = body[:at] + bytes([value]) + body[at + 1 :]
            moved = _CAINFO.search(changed)
            if moved is None or _decoded(moved.group(2)) != signature:  # not an equal spelling
                # Fresh gateway headers (tif+sm2): the seal alone must catch it, and the
                # original's nonce stays unspent.
                fresh = self.target.build(Case("tamper", "signature", (), raw=changed))
                return f"byte {at - start} of the signature", fresh

    def _transplant(self) -> RawRequest:
        other = self.target.build(Case("tamper", "other", (), sign_in_request(self.target)))
        cainfo = _CAINFO.search(self.original.body)
        assert cainfo is not None
        body = _CAINFO.sub(lambda _: cainfo.group(0), other.body, count=1)
        return replace(other, body=body)

    def _header_byte(self, *, signature: bool) -> tuple[str, RawRequest]:
        headers = list(self.original.headers)
        gateway = [
            i for i, (name, _) in enumerate(headers)
            if name.startswith("x-tif-") and (name == "x-tif-signature") == signature
        ]  # fmt: skip
        index = self.rng.choice(gateway)
        name, value = headers[index]
        in_name = not signature and self.rng.random() < 0.3
        text = name if in_name else value
        printable = b"".join(bytes([c]) for c in range(0x21, 0x7F) if chr(c) != ":")
        while True:
            at = self.rng.randrange(len(text))
            char = chr(self.rng.choice(printable))
            if signature and char not in "0123456789abcdef":
                continue  # still 64 hex digits: only the equality check can tell
            if char != text[at] and not (in_name and char.lower() == text[at].lower()):
                break  # (header names ignore case: X-tif-nonce is the same header)
        changed = text[:at] + char + text[at + 1 :]
        headers[index] = (changed, value) if in_name else (name, changed)
        what = f"byte {at} of the {'name' if in_name else 'value'} of {name}"
        return what, replace(self.original, headers=tuple(headers))

    def _stale(self) -> tuple[str, RawRequest]:
        request = self.target.build(Case("tamper", "stale", (), sign_in_request(self.target)))
        values = dict(request.headers)
        offset = self.rng.choice((-1, 1)) * self.rng.randint(301, 86_400)
        stamp = str(int(values["x-tif-timestamp"]) + offset)
        values["x-tif-timestamp"] = stamp
        token = self.target.site.token or ""
        values["x-tif-signature"] = tif_signature(stamp, token, values["x-tif-nonce"])
        return f"x-tif-timestamp {offset:+d} s", replace(request, headers=tuple(values.items()))


def _signature_span(body: bytes) -> tuple[int, int] | None:
    found = _CAINFO.search(body)
    return found.span(2) if found else None


def _decoded(text: bytes) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def _run_profile(target: Target, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    transcript = Transcript(target.server.db)
    with closing(_Counts(target.server.db)) as counts:
        for _ in range(trials):
            trial = _Trial(target, rng, tally)
            tally.trials += 1
            before = counts.read()
            for kind, what, request in trial.forgeries():
                tally.count(kind, what, target.send_raw(request))
            tally.state_changes += _changed(before, counts.read(), transcript.new())
            original = target.send_raw(trial.original).envelope()
            if original is not None and original["infcode"] == 0:
                tally.originals_accepted += 1
            transcript.new()  # the original's own record changed state, as it should
            before = counts.read()
            for kind, what, request in trial.replays():
                tally.count(kind, what, target.send_raw(request))
            tally.state_changes += _changed(before, counts.read(), transcript.new())
    transcript.close()
    return tally


def _changed(before: tuple[int, ...], after: tuple[int, ...], records: Sequence[Any]) -> int:
    rows = sum(abs(a - b) for a, b in zip(after, before, strict=True))
    flagged = sum(1 for r in records if r.get("state_changed"))
    return max(rows, flagged)


def run(
    folder: Path, *, trials: int, seed: int = 11, profiles: Sequence[str] = PROFILES
) -> TamperResult:
    """Start ``nhsa mock serve`` in ``folder`` and run ``trials`` trials per profile."""
    started = time.perf_counter()
    tallies: dict[str, Tally] = {}
    with MockServer(folder) as server, contextlib.closing(server.admin()) as admin:
        for profile in profiles:
            site = admin.register(CODES[profile], profile)
            target = Target(server, site, None, folder / f"msgids-{profile.replace('+', '-')}.db")
            target.sign_in()
            tallies[profile] = _run_profile(target, trials, random.Random(f"{seed}-{profile}"))
    return TamperResult(tallies, time.perf_counter() - started, seed)


def report(result: TamperResult) -> None:
    """Print the drill's table."""
    headers = ["profile", "trials", *(f"{k} sent/refused" for k in KINDS), "refused",
               "state changes", "originals accepted"]  # fmt: skip
    rows = []
    for profile, tally in result.tallies.items():
        sent, refused = sum(tally.sent.values()), sum(tally.refused.values())
        share = f"{refused / sent:.1%}" if sent else "—"
        cells = [f"{tally.sent[k]}/{tally.refused[k]}" if tally.sent[k] else "n/a" for k in KINDS]
        rows.append([profile, tally.trials, *cells, share, tally.state_changes,
                     f"{tally.originals_accepted}/{tally.trials}"])  # fmt: skip
    notes = [
        "body changes are not sent under tif alone: its signature covers the gateway headers, "
        "not the body (reference §2.3)",
    ]
    show(f"tamper/replay drill (seed {result.seed}, {result.seconds:.0f} s)", headers, rows,
         must_be_zero=[len(headers) - 2], notes=notes)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """``python bench/drill_tamper.py [--trials N] [--seed S]``: run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=500, help="per profile")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nhsa-drill-tamper-") as folder:
        result = run(Path(folder), trials=args.trials, seed=args.seed)
    report(result)
    print(f"wrote {write('drill_tamper', result.as_json())}")
    return 0

"""Fuzz drill: malformed requests of many families against ``nhsa mock serve`` over a real
socket, for each signing profile (``none``, ``tif``, ``sm2``, ``tif+sm2``), one institution
per profile on one server.

Families (each request broken one way; everything else — gateway headers, SM2 seal, msgid,
sign_no — is right, so the break is what the platform must notice):

=================  ===========================================================================
field-type         one field of one transaction's example request (every field of every
                   transaction, from the contract) given a type or ``null`` it forbids
field-rule         the same, broken by another of its rules: missing, too long/short, pattern,
                   code table, date format, minimum, decimals, empty array
business           one field of a request that would otherwise succeed (1101, 2201, 2202,
                   2208, 5203 of visits the SDK made) given a value the contract allows but the
                   platform's rules refuse: an unknown person, visit or settlement, another
                   person's certificate, an insurance not held, a msgid dated 30 February, …
control-chars      NUL, ESC, U+202E or U+200B in a free-text field of a request that would
                   otherwise succeed (9001 sign-in, 1101, 2201 registration)
deep-nesting       a field's value nested 2–5,000 levels deep (arrays or objects)
truncated-json     a valid, signed body cut short
huge               a 200,000-character string, a 100,000-item array, a body over 1 MiB
non-json           random bytes, invalid UTF-8, JSON that is not an object, an empty body
content-type       a request that would succeed, sent as text/plain, XML, a form, …
path               the same, posted to a path with a trailing slash, doubled or upper-cased
method             the same, sent with GET, PUT, DELETE or PATCH
headers            two different Content-Length headers, or one that is not a number
gateway            (tif) each x-tif header missing, empty, malformed, stale, replayed, of
                   another institution, or doubled
seal               (sm2) cainfo empty, garbage, of another key or another body; signtype wrong
=================  ===========================================================================

What is counted, per family and profile (every column must be 0): HTTP 5xx; business rows
added, removed or changed (the mock's business tables read before and after each family);
refusals whose err_msg does not name what was broken (the field, header, or rule); broken
requests answered infcode 0; answers that are not a response envelope; tracebacks in
answers; POSTs to a business path that left no transcript record; requests with no answer.

Seeds make every run the same requests. Run ``python bench/drill_fuzz.py`` (10,000 requests per
profile); tests/drills/test_fuzz.py runs the same code with a few hundred.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from nhsa import spec
from nhsa.envelope import dumps
from nhsa.signing import tif_signature

from ._contract import MISSING, Broken, Field, base_requests, broken_fields, fields_of, get, put
from ._http import Answer
from ._report import show, write
from ._server import MockServer
from ._site import AREA, HOSPITAL, PROFILES
from ._state import Transcript, business_rows, changed_rows
from ._target import (
    CANCEL,
    CODES,
    QUERY,
    REFUND,
    SINGLE_ENTRY,
    SUCCEEDING,
    Case,
    Target,
    lookup_request,
    registration_request,
    sign_in_request,
)  # fmt: skip

__all__ = ["COLUMNS", "FAMILIES", "FuzzResult", "judge", "plan", "run"]

FAMILIES: Final = (
    "field-type", "field-rule", "business", "control-chars", "deep-nesting", "truncated-json",
    "huge", "non-json", "content-type", "path", "method", "headers", "gateway", "seal",
)  # fmt: skip
COLUMNS: Final = (
    ("http_5xx", "HTTP 5xx"),
    ("state_changes", "state changes"),
    ("unnamed", "refusals not naming the break"),
    ("accepted", "broken but accepted"),
    ("not_envelope", "answers not an envelope"),
    ("tracebacks", "tracebacks in answers"),
    ("records_missing", "transcript records missing"),
    ("no_answer", "no answer"),
)
"""(key, title) of each failure column; every one must be 0."""

_SHARES: Final = {
    "business": 8, "control-chars": 10, "deep-nesting": 8, "truncated-json": 7, "huge": 5,
    "non-json": 5, "content-type": 5, "path": 4, "method": 3, "headers": 3, "gateway": 6,
    "seal": 4,
}  # fmt: skip
"""Weights of the families other than field-type and field-rule."""
_FIELD_SHARE = 0.4
_CONTROLS: Final = ("\x00", "\x1b", "\u202e", "\u200b")
_NEST_MARKER: Final = b'"__nest__"'
_DEPTH_WORDS: Final = ("depth", "nest", "嵌套", "深度", "层")
_TRACEBACK = re.compile(rb'Traceback \(most recent call last\)|File "[^"]+\.py", line \d+')
_TEXT_EXCLUDED: Final = frozenset(
    {"msgid", "infno", "fixmedins_code", "sign_no", "cainfo", "signtype", "insuplc_admdvs",
     "mdtrtarea_admvs", "opter_type", "psn_no", "mdtrt_cert_no", "certno", "mdtrt_cert_type"}
)  # fmt: skip
_ODD_TYPES: Final = (
    "text/xml", "application/xml", "application/x-www-form-urlencoded", "text/html",
    "multipart/form-data; boundary=nhsa", "application/octet-stream", "image/png",
    "application/json; charset=gbk", "text/plain; charset=iso-8859-1",
)  # fmt: skip
"""Content types a UTF-8 JSON body is not (text/plain in UTF-8 is what some gateways send)."""


@dataclass
class Tally:
    """Requests and failures of one family under one profile."""

    requests: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, column: str, example: str) -> None:
        """Count one failure, keeping the first few examples."""
        self.failures[column] += 1
        kept = self.examples.setdefault(column, [])
        if len(kept) < 3:
            kept.append(example)

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "requests": self.requests,
            **{key: self.failures[key] for key, _ in COLUMNS},
            "examples": self.examples,
        }


@dataclass
class FuzzResult:
    """Every tally, by profile and family, and the run's size and time."""

    tallies: dict[str, dict[str, Tally]]
    seconds: float
    seed: int

    def total(self, column: str, *, family: str | None = None, profile: str | None = None) -> int:
        """A column summed over the tallies selected."""
        return sum(
            t.requests if column == "requests" else t.failures[column]
            for p, families in self.tallies.items()
            if profile in (None, p)
            for f, t in families.items()
            if family in (None, f)
        )

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "profiles": {
                p: {f: t.as_json() for f, t in families.items()}
                for p, families in self.tallies.items()
            },
        }


# -- the families

_OTHER_PERSON = {"psn_no": "P53010000000002", "certno": "530103195807020020"}  # 李秀兰
_NOBODY_CERTNO = "530102198001010015"  # a well-formed ID number no fixture person has
_DATA = ("input", "data")
_BUSINESS_BREAKS: Final[tuple[tuple[Callable[[Target], dict[str, Any]], Any, object], ...]] = (
    # (request that would succeed, path of the broken field, value the rules refuse)
    (lookup_request, (*_DATA, "mdtrt_cert_no"), _NOBODY_CERTNO),
    (lookup_request, (*_DATA, "certno"), _OTHER_PERSON["certno"]),
    (lookup_request, (*_DATA, "mdtrt_cert_type"), "01"),
    (registration_request, (*_DATA, "psn_no"), "P53010000000099"),
    (registration_request, (*_DATA, "insutype"), "390"),
    (registration_request, ("insuplc_admdvs",), "440300"),
    (registration_request, ("mdtrtarea_admvs",), "440300"),
    (registration_request, ("sign_no",), "530100202601010000009999"),
    (registration_request, (*_DATA, "mdtrt_cert_no"), _OTHER_PERSON["certno"]),
    (registration_request, (*_DATA, "mdtrt_cert_type"), "01"),
    (registration_request, ("msgid",), "dated-30-february"),
    (CANCEL, (*_DATA, "mdtrt_id"), "530100999999999999"),
    (CANCEL, (*_DATA, "psn_no"), _OTHER_PERSON["psn_no"]),
    (CANCEL, (*_DATA, "ipt_otp_no"), "MZ-NOT-THIS-VISIT"),
    (REFUND, (*_DATA, "setl_id"), "530100999999999999"),
    (REFUND, (*_DATA, "mdtrt_id"), "open-visit"),
    (REFUND, (*_DATA, "psn_no"), _OTHER_PERSON["psn_no"]),
    (REFUND, ("sign_no",), "530100202601010000009999"),
    (QUERY, (*_DATA, "setl_id"), "530100999999999999"),
    (QUERY, (*_DATA, "mdtrt_id"), "open-visit"),
    (QUERY, (*_DATA, "psn_no"), _OTHER_PERSON["psn_no"]),
)


def _business(target: Target, _rng: random.Random, count: int) -> Iterator[Case]:
    for index in range(count):
        build, path, value = _BUSINESS_BREAKS[index % len(_BUSINESS_BREAKS)]
        document = build(target)
        if value == "open-visit":
            value = target.visits["open"]
        elif value == "dated-30-february":  # the contract's rule msgid-time
            value = f"{target.site.code}20260230120000{target.next_serial() % 10000:04d}"
        name = str(path[-1])
        yield Case(
            "business", f"{document['infno']} {'.'.join(map(str, path))} = {value}", (name,),
            put(document, path, value), keep=(name,) if len(path) == 1 else (),
        )  # fmt: skip


# -- other families -----------------------------------------------------------------------------


def _field_cases(target: Target, rng: random.Random) -> dict[str, list[Case]]:
    requests = base_requests(target.site.code, HOSPITAL, AREA, target.sign_no)
    by_family: dict[str, list[Case]] = {"field-type": [], "field-rule": []}
    for broken in broken_fields(requests, rng):
        family = "field-type" if broken.rule in ("type", "null") else "field-rule"
        by_family[family].append(_field_case(family, broken, target))
    return by_family


def _field_case(family: str, broken: Broken, target: Target) -> Case:
    where = broken.field.dotted
    what = f"{broken.field.infno} {where} {broken.rule}"
    if where in ("cainfo", "signtype") and target.signing.profile.sm2:
        # The seal writes these two: break them in the sealed bytes instead.
        value = get(broken.document, broken.field.path) if broken.rule != "required" else MISSING
        return Case(
            family, what, (broken.field.name,), document=put(broken.document, ("cainfo",), ""),
            post_seal=lambda body: _set_member(body, where, value),
        )  # fmt: skip
    return Case(family, what, (broken.field.name,), broken.document, keep=_keep(broken.field))


def _keep(found: Field) -> tuple[str, ...]:
    """A broken envelope member the send must not refresh (msgid, inf_time)."""
    return (str(found.path[0]),) if len(found.path) == 1 else ()


def _text_fields(infno: str, document: Mapping[str, Any]) -> list[Field]:
    return [
        f
        for f in fields_of(infno, document)
        if f.spec.kind == "string" and f.spec.pattern is None and f.spec.code_table is None
        and "enum" not in f.spec.schema and f.spec.common not in ("date", "datetime")
        and f.name not in _TEXT_EXCLUDED and _present(document, f)
    ]  # fmt: skip


def _present(document: Mapping[str, Any], found: Field) -> bool:
    try:
        get(document, found.path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _control_chars(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    for _ in range(count):
        document = rng.choice(SUCCEEDING)(target)
        chosen = rng.choice(_text_fields(document["infno"], document))
        value = get(document, chosen.path) or "K01"
        char = rng.choice(_CONTROLS)
        limit = chosen.spec.max_length or len(value) + 1
        at = rng.randrange(len(value) + 1)
        text = value[:at] + char + value[at:] if len(value) < limit else char + value[1:]
        what = f"{document['infno']} {chosen.dotted} U+{ord(char):04X}"
        yield Case("control-chars", what, (chosen.name,), document=put(document, chosen.path, text))


def _deep_nesting(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    fields = _all_fields(target)
    for _ in range(count):
        infno, document, chosen = rng.choice(fields)
        depth = rng.choice((rng.randint(2, 100), rng.randint(100, 1100), rng.randint(1100, 5000)))
        shape = rng.choice(("array", "object"))
        nested = (b"[" * depth + b"]" * depth) if shape == "array" else (
            b'{"a":' * depth + b"1" + b"}" * depth
        )  # fmt: skip
        yield Case(
            "deep-nesting", f"{infno} {chosen.dotted} {shape} depth {depth}",
            (*_DEPTH_WORDS, chosen.name), put(document, chosen.path, "__nest__"),
            keep=_keep(chosen), misleading=("not utf-8",),
            pre_seal=lambda body, nested=nested: body.replace(_NEST_MARKER, nested, 1),
        )  # fmt: skip


def _all_fields(target: Target) -> list[tuple[str, dict[str, Any], Field]]:
    requests = base_requests(target.site.code, HOSPITAL, AREA, target.sign_no)
    return [
        (infno, document, found)
        for infno, document in requests.items()
        for found in fields_of(infno, document)
        if found.name not in ("cainfo", "signtype") and _present(document, found)
    ]


def _truncated(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    requests = list(base_requests(target.site.code, HOSPITAL, AREA, target.sign_no).items())
    for _ in range(count):
        infno, document = rng.choice(requests)
        share = rng.random()
        yield Case(
            "truncated-json", f"{infno} cut at {share:.0%}", ("json",), document=document,
            post_seal=lambda body, share=share: _cut(body, share),
        )  # fmt: skip


def _cut(body: bytes, share: float) -> bytes:
    """The first ``share`` of ``body``: at least one byte, never all of them."""
    return body[: max(1, min(len(body) - 1, int(len(body) * share)))]


def _huge(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    fields = _all_fields(target)
    strings = [f for f in fields if f[2].spec.kind == "string"]
    for index in range(count):
        kind = index % 3
        if kind == 0:
            infno, document, chosen = rng.choice(strings)
            value: object = rng.choice(("9" * 200_000, "测" * 100_000))
            what = f"{infno} {chosen.dotted} string of {len(str(value))} characters"
        elif kind == 1:
            infno, document, chosen = rng.choice(fields)
            value = [0] * 100_000
            what = f"{infno} {chosen.dotted} array of 100000 items"
        else:
            document = rng.choice(SUCCEEDING)(target)
            chosen = rng.choice(_text_fields(document["infno"], document))
            value = "9" * (1_100_000 + rng.randrange(200_000))
            yield Case(
                "huge", f"{document['infno']} body over 1 MiB", ("max-size", "bytes", "报文过大"),
                document=put(document, chosen.path, value),
            )  # fmt: skip
            continue
        yield Case(
            "huge", what, (chosen.name,), put(document, chosen.path, value), keep=_keep(chosen)
        )


def _non_json(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    documents = (b"[]", b"1", b'"envelope"', b"null", b"true", b"[{}]", b"", b"   ")
    for index in range(count):
        kind = index % 3
        if kind == 0:
            body = rng.choice(documents)
            what = f"body {body[:20]!r}"
        elif kind == 1:
            body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
            what = f"{len(body)} random bytes"
        else:
            text = dumps(lookup_request(target))
            at = rng.randrange(len(text))
            body = text[:at] + rng.choice((b"\xff", b"\xc3\x28", b"\xed\xa0\x80")) + text[at:]
            what = f"invalid UTF-8 at byte {at}"
        yield Case("non-json", what, ("json",), raw=body)


def _content_types(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    for _ in range(count):
        document = rng.choice((sign_in_request, lookup_request))(target)
        kind = rng.choice(_ODD_TYPES)
        yield Case(
            "content-type", f"{document['infno']} as {kind}", ("content-type",),
            document=document, content_type=kind,
        )  # fmt: skip


def _paths(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    own = {infno: t.path for infno, t in spec.contract().transactions.items()}
    for _ in range(count):
        document = rng.choice((sign_in_request, lookup_request))(target)
        path = rng.choice((SINGLE_ENTRY, own[document["infno"]]))
        broken = rng.choice((path + "/", "/" + path, path.upper(), path + "//"))
        yield Case(
            "path", f"{document['infno']} to {broken}", ("path",), document=document,
            path=broken, record=False,
        )  # fmt: skip


def _methods(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    for _ in range(count):
        document = rng.choice((sign_in_request, lookup_request))(target)
        method = rng.choice(("GET", "PUT", "DELETE", "PATCH"))
        yield Case(
            "method", f"{document['infno']} with {method}", ("method",), document=document,
            method=method, record=False,
        )  # fmt: skip


def _headers(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    for _ in range(count):
        document = sign_in_request(target)
        size = len(dumps(document))  # about the sealed size; exactness does not matter here
        value = rng.choice(
            (f"{size}, {size + 1}", str(size + rng.randint(1, 9)), "abc", "-5", "1e3")
        )
        yield Case(
            "headers", f"9001 with a second Content-Length {value!r}", ("content-length",),
            document=document, headers=(("Content-Length", value),), record=False,
        )  # fmt: skip


def _gateway_breakers(target: Target) -> list[tuple[str, tuple[str, ...], Any]]:
    names = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")
    token = target.site.token or ""

    def without(name: str) -> Any:
        return lambda _target, h: [(k, v) for k, v in h if k != name]

    def emptied(name: str) -> Any:
        return lambda _target, h: [(k, "" if k == name else v) for k, v in h]

    def set_to(name: str, value: str) -> Any:
        return lambda _target, h: [(k, value if k == name else v) for k, v in h]

    def stale(seconds: int) -> Any:
        def breaker(_target: Target, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
            values = dict(headers)
            stamp = str(int(values["x-tif-timestamp"]) + seconds)
            values["x-tif-timestamp"] = stamp
            values["x-tif-signature"] = tif_signature(stamp, token, values["x-tif-nonce"])
            return list(values.items())

        return breaker

    def one_hex_changed(_target: Target, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        values = dict(headers)
        signature = values["x-tif-signature"]
        values["x-tif-signature"] = ("1" if signature[0] != "1" else "2") + signature[1:]
        return list(values.items())

    def replayed(target: Target, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return list(target.passed_gateway) or headers

    def doubled(_target: Target, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [*headers, ("x-tif-signature", "0" * 64)]

    breakers: list[tuple[str, tuple[str, ...], Any]] = []
    for name in names:
        breakers += [(f"{name} missing", (name,), without(name))]
        breakers += [(f"{name} empty", (name,), emptied(name))]
    breakers += [
        ("x-tif-timestamp in milliseconds", ("x-tif-timestamp",),
         set_to("x-tif-timestamp", str(int(time.time() * 1000)))),
        ("x-tif-timestamp not a number", ("x-tif-timestamp",), set_to("x-tif-timestamp", "now")),
        ("x-tif-timestamp 301 s old", ("x-tif-timestamp",), stale(-301)),
        ("x-tif-timestamp a day old", ("x-tif-timestamp",), stale(-86400)),
        ("x-tif-timestamp 10 min ahead", ("x-tif-timestamp",), stale(600)),
        ("x-tif-nonce with a space", ("x-tif-nonce",), set_to("x-tif-nonce", "a b")),
        ("x-tif-nonce of 129 characters", ("x-tif-nonce",), set_to("x-tif-nonce", "n" * 129)),
        ("x-tif-signature upper case", ("x-tif-signature",), set_to("x-tif-signature", "A" * 64)),
        ("x-tif-signature one digit changed", ("x-tif-signature",), one_hex_changed),
        ("x-tif-paasid unknown", ("x-tif-paasid",), set_to("x-tif-paasid", "paas-nobody")),
        ("x-tif-nonce replayed", ("x-tif-nonce",), replayed),
        ("x-tif-signature twice", ("x-tif-signature",), doubled),
    ]  # fmt: skip
    if target.other is not None:
        paasid, other_token = target.other

        def other_institution(
            _target: Target, headers: list[tuple[str, str]]
        ) -> list[tuple[str, str]]:
            values = dict(headers)
            stamp, nonce = values["x-tif-timestamp"], values["x-tif-nonce"]
            values["x-tif-paasid"] = paasid
            values["x-tif-signature"] = tif_signature(stamp, other_token, nonce)
            return list(values.items())

        breakers.append(
            ("x-tif-paasid of another institution (its own valid headers)",
             ("x-tif-paasid", "fixmedins_code"), other_institution)
        )  # fmt: skip
    return breakers


def _gateway(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    breakers = _gateway_breakers(target)
    for index in range(count):
        what, names, breaker = breakers[index % len(breakers)]
        document = rng.choice(SUCCEEDING)(target)
        yield Case("gateway", f"{document['infno']} {what}", names, document, gateway=breaker)


def _seal(target: Target, rng: random.Random, count: int) -> Iterator[Case]:
    other = target.signing.seal_request(dumps({**lookup_request(target), "msgid": "x"}))
    other_cainfo = str(_member(other, "cainfo"))
    breakers: list[tuple[str, str, object]] = [
        ("cainfo empty", "cainfo", ""),
        ("cainfo null", "cainfo", None),
        ("cainfo garbage", "cainfo", "not-a-signature"),
        ("cainfo of an unknown key", "cainfo", "0" * 16 + other_cainfo[16:]),
        ("cainfo of another body", "cainfo", other_cainfo),
        ("signtype RSA", "signtype", "RSA"),
        ("signtype empty", "signtype", ""),
    ]
    for index in range(count):
        what, name, value = breakers[index % len(breakers)]
        document = rng.choice(SUCCEEDING)(target)
        yield Case(
            "seal", f"{document['infno']} {what}", ("cainfo", "signtype"), document=document,
            post_seal=lambda body, name=name, value=value: _set_member(body, name, value),
        )  # fmt: skip


def _member(body: bytes, name: str) -> object:
    return dict(orjson.loads(body)).get(name)


def _set_member(body: bytes, name: str, value: object) -> bytes:
    """``body`` with the top-level member ``name`` replaced (removed: MISSING), bytes kept
    elsewhere — so only that member differs from what was sealed."""
    pattern = re.compile(rb',?"' + name.encode() + rb'":(null|"(?:[^"\\]|\\.)*")')
    found = pattern.search(body)
    if found is None:
        return body
    if value is MISSING:
        replacement = b""
    else:
        prefix = b"," if found.group(0).startswith(b",") else b""
        replacement = prefix + b'"' + name.encode() + b'":' + dumps(value)
    return body[: found.start()] + replacement + body[found.end() :]


_FAMILY_BUILDERS: Final[dict[str, Callable[[Target, random.Random, int], Iterator[Case]]]] = {
    "business": _business, "control-chars": _control_chars, "deep-nesting": _deep_nesting,
    "truncated-json": _truncated, "huge": _huge, "non-json": _non_json,
    "content-type": _content_types, "path": _paths, "method": _methods, "headers": _headers,
    "gateway": _gateway, "seal": _seal,
}  # fmt: skip


def plan(target: Target, requests: int, rng: random.Random) -> dict[str, Iterable[Case]]:
    """The cases of each family for one institution, ``requests`` in all.

    With room for them (a full run), every field case of the contract is in; otherwise a
    sample of them fills ``_FIELD_SHARE`` of the requests. The rest is shared out by weight
    among the other families this profile has.
    """
    profile = target.site.profile
    fields = _field_cases(target, rng)
    available = sum(len(cases) for cases in fields.values())
    if not available:
        raise RuntimeError("no example request of the contract is valid as this institution")
    budget = available if requests >= 2 * available else int(requests * _FIELD_SHARE)
    planned: dict[str, Iterable[Case]] = {}
    for family, cases in fields.items():
        share = round(budget * len(cases) / available)
        planned[family] = cases if share >= len(cases) else rng.sample(cases, share)
    families = [
        f
        for f in _SHARES
        if (f != "gateway" or "tif" in profile) and (f != "seal" or "sm2" in profile)
    ]
    rest = requests - sum(len(cases) for cases in planned.values())
    weights = sum(_SHARES[f] for f in families)
    counts = {f: max(1, rest * _SHARES[f] // weights) for f in families}
    counts[families[0]] += max(0, rest - sum(counts.values()))  # the rounding's remainder
    for family in families:
        # Made while sent, not before: some families' bodies are a megabyte each.
        planned[family] = _FAMILY_BUILDERS[family](target, rng, counts[family])
    return planned


# -- judging ------------------------------------------------------------------------------------


def judge(case: Case, answer: Answer, records: Sequence[Mapping[str, Any]], tally: Tally) -> None:
    """Count what is wrong with ``answer`` to ``case`` (and the records it left)."""
    tally.requests += 1
    example = f"{case.what}: {_shown(answer)}"
    if answer.error is not None:
        tally.fail("no_answer", example)
        return
    if answer.status >= 500:
        tally.fail("http_5xx", example)
    if _TRACEBACK.search(answer.body):
        tally.fail("tracebacks", example)
    if case.record and not records:
        tally.fail("records_missing", example)
    envelope = answer.envelope()
    if envelope is None:
        tally.fail("not_envelope", example)
        return
    if envelope["infcode"] == 0:
        tally.fail("accepted", example)
        return
    err_msg = str(envelope.get("err_msg") or "").lower()
    named = any(name.lower() in err_msg for name in case.names)
    if not named or any(word in err_msg for word in case.misleading):
        tally.fail("unnamed", example)


def _shown(answer: Answer) -> str:
    if answer.error is not None:
        return answer.error
    envelope = answer.envelope()
    text = str(envelope.get("err_msg")) if envelope else answer.body[:160].decode(errors="replace")
    return f"HTTP {answer.status} {text[:240]}"


# -- the run --------------------------------------------------------------------------------------


def run(
    folder: Path, *, requests: int, seed: int = 11, profiles: Sequence[str] = PROFILES
) -> FuzzResult:
    """Start ``nhsa mock serve`` in ``folder``, register one institution per profile and send
    each ``requests`` broken requests; every family's effect on the business tables is read
    before and after it."""
    started = time.perf_counter()
    tallies: dict[str, dict[str, Tally]] = {}
    with MockServer(folder) as server, contextlib.closing(server.admin()) as admin:
        sites = {p: admin.register(CODES[p], p) for p in profiles}
        gateways = [(s.paasid, s.token) for s in sites.values() if s.paasid and s.token]
        for profile, site in sites.items():
            others = [g for g in gateways if g[0] != site.paasid]
            journal = folder / f"journal-{profile.replace('+', '-')}.sqlite3"
            target = Target(server, site, others[0] if others else None, journal)
            target.prepare_visits()
            target.sign_in()
            rng = random.Random(f"{seed}-{profile}")
            tallies[profile] = _run_profile(target, plan(target, requests, rng))
    return FuzzResult(tallies, time.perf_counter() - started, seed)


def _run_profile(target: Target, planned: Mapping[str, Iterable[Case]]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    transcript = Transcript(target.server.db)
    try:
        for family, cases in planned.items():
            tally = tallies.setdefault(family, Tally())
            before = business_rows(target.server.db)
            for case in cases:
                answer = target.send(case)
                judge(case, answer, transcript.new(), tally)
            changed = changed_rows(before, business_rows(target.server.db))
            if changed:
                tally.failures["state_changes"] += changed
                tally.examples.setdefault("state_changes", []).append(
                    f"{changed} business rows changed while sending {family} cases"
                )
    finally:
        transcript.close()
    return tallies


# -- the bench ----------------------------------------------------------------------------------


def report(result: FuzzResult) -> None:
    """Print the drill's tables: by profile, then by family."""
    headers = ["", "requests", *(title for _, title in COLUMNS)]
    zero = range(2, len(headers))
    by_profile = [
        [p, result.total("requests", profile=p), *(result.total(k, profile=p) for k, _ in COLUMNS)]
        for p in result.tallies
    ]
    show(f"fuzz drill — by profile (seed {result.seed}, {result.seconds:.0f} s)", headers,
         by_profile, must_be_zero=zero)  # fmt: skip
    families = [f for f in FAMILIES if any(f in t for t in result.tallies.values())]
    by_family = [
        [f, result.total("requests", family=f), *(result.total(k, family=f) for k, _ in COLUMNS)]
        for f in families
    ]
    show("fuzz drill — by family (all profiles)", headers, by_family, must_be_zero=zero)


def main(argv: Sequence[str] | None = None) -> int:
    """``python bench/drill_fuzz.py [--requests N] [--seed S]``: run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="per profile")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nhsa-drill-fuzz-") as folder:
        result = run(Path(folder), requests=args.requests, seed=args.seed)
    report(result)
    path = write("drill_fuzz", result.as_json())
    print(f"wrote {path}")
    return 0

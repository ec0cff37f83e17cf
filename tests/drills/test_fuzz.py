"""The fuzz drill, short: a few hundred malformed requests per signing profile against
``nhsa mock serve`` over a real socket (``bench/drills/fuzz.py``; the benchmark sends 10,000).

Each family must show zero in every failure column. Where main fails one because of a finding
of issue 11 that another branch fixes, that family's column is its own test, marked; the
integrator removes the marks once both branches are merged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from bench.drills import fuzz
from bench.drills._http import Answer
from bench.drills._target import Case

REQUESTS = 150

ON_I11_PROBE = {
    "deep-nesting": "finding 1: a body nested 256-1,022 deep answers HTTP 500 (no transcript "
    "record), deeper 'not UTF-8 JSON'; fixed on i11-probe",
    "control-chars": "finding 2: control characters are accepted and booked; fixed on i11-probe",
    "content-type": "finding 3: any Content-Type is processed; fixed on i11-probe",
    "path": "finding 4: POST …/callService/ answers 307; fixed on i11-probe",
    "headers": "finding 5: two Content-Length headers get a plain-text 400; fixed on i11-probe",
    "business": "finding 6: refusals that do not name the broken field (mdtrt_cert_no, "
    "mdtrt_cert_type); fixed on i11-probe",
    "msgid-time": "found by this drill: the contract rule msgid-time is not enforced, a msgid "
    "dated 30 February is booked; fixed on i11-probe",
}
FAILING_ON_MAIN: dict[tuple[str, str], str] = {
    ("deep-nesting", "http_5xx"): ON_I11_PROBE["deep-nesting"],
    ("deep-nesting", "not_envelope"): ON_I11_PROBE["deep-nesting"],
    ("deep-nesting", "records_missing"): ON_I11_PROBE["deep-nesting"],
    ("deep-nesting", "unnamed"): ON_I11_PROBE["deep-nesting"],
    ("control-chars", "accepted"): ON_I11_PROBE["control-chars"],
    ("control-chars", "state_changes"): ON_I11_PROBE["control-chars"],
    ("content-type", "accepted"): ON_I11_PROBE["content-type"],
    ("content-type", "state_changes"): ON_I11_PROBE["content-type"],
    ("path", "not_envelope"): ON_I11_PROBE["path"],
    ("headers", "not_envelope"): ON_I11_PROBE["headers"],
    ("business", "unnamed"): ON_I11_PROBE["business"],
    ("business", "accepted"): ON_I11_PROBE["msgid-time"],
    ("business", "state_changes"): ON_I11_PROBE["msgid-time"],
}
COLUMNS = [key for key, _ in fuzz.COLUMNS]


@pytest.fixture(scope="module")
def result(drill_run: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return drill_run("fuzz", lambda folder: fuzz.run(folder, requests=REQUESTS).as_json())


def total(result: dict[str, Any], family: str, column: str) -> int:
    return sum(
        families[family][column] for families in result["profiles"].values() if family in families
    )


def examples(result: dict[str, Any], family: str, column: str) -> list[str]:
    return [
        example
        for families in result["profiles"].values()
        for example in families.get(family, {}).get("examples", {}).get(column, [])
    ]


def test_every_profile_sends_every_family(result: dict[str, Any]) -> None:
    assert set(result["profiles"]) == {"none", "tif", "sm2", "tif+sm2"}
    for profile, families in result["profiles"].items():
        assert sum(t["requests"] for t in families.values()) >= REQUESTS
        expected = {
            f for f in fuzz.FAMILIES
            if (f != "gateway" or "tif" in profile) and (f != "seal" or "sm2" in profile)
        }  # fmt: skip
        assert set(families) == expected
        assert all(t["requests"] > 0 for t in families.values())


@pytest.mark.parametrize("family", fuzz.FAMILIES)
def test_family_fails_nothing(result: dict[str, Any], family: str) -> None:
    checked = [c for c in COLUMNS if (family, c) not in FAILING_ON_MAIN]
    failed = {c: examples(result, family, c) for c in checked if total(result, family, c)}
    assert not failed


@pytest.mark.parametrize(
    ("family", "column"),
    [
        pytest.param(f, c, marks=pytest.mark.xfail(strict=True, reason=reason), id=f"{f}-{c}")
        for (f, c), reason in FAILING_ON_MAIN.items()
    ],
)
def test_family_column_held_by_a_finding(result: dict[str, Any], family: str, column: str) -> None:
    assert total(result, family, column) == 0, examples(result, family, column)


# -- the judge can fail: each column counts what it claims --------------------------------------


def _judged(answer: Answer, records: list[dict[str, Any]] | None = None) -> fuzz.Tally:
    tally = fuzz.Tally()
    case = Case("x", "probe", ("psn_no",), misleading=("not utf-8",))
    fuzz.judge(case, answer, [{"seq": 1}] if records is None else records, tally)
    return tally


def _envelope(infcode: int, err_msg: str | None) -> bytes:
    return orjson.dumps({"infcode": infcode, "err_msg": err_msg})


@pytest.mark.parametrize(
    ("answer", "records", "columns"),
    [
        (Answer(200, body=_envelope(-1, "/input/data/psn_no type")), None, set()),
        (Answer(500, body=b"Internal Server Error"), None, {"http_5xx", "not_envelope"}),
        (Answer(200, body=_envelope(0, None)), None, {"accepted"}),
        (Answer(200, body=_envelope(-1, "mdtrt_id unknown")), None, {"unnamed"}),
        (Answer(200, body=_envelope(-1, "psn_no: not UTF-8 JSON")), None, {"unnamed"}),
        (Answer(307, body=b""), None, {"not_envelope"}),
        (Answer(200, body=_envelope(-1, "psn_no")), [], {"records_missing"}),
        (Answer(0, error="timeout"), None, {"no_answer"}),
        (
            Answer(200, body=b'Traceback (most recent call last):\n  File "x.py", line 1'),
            None,
            {"tracebacks", "not_envelope"},
        ),
    ],
)
def test_the_judge_counts_each_failure(
    answer: Answer, records: list[dict[str, Any]] | None, columns: set[str]
) -> None:
    assert {c for c, n in _judged(answer, records).failures.items() if n} == columns

"""The fuzz drill, short: a few hundred malformed requests per signing profile against
``nhsa mock serve`` over a real socket (``bench/drills/fuzz.py``; the benchmark sends 10,000).

Each family must show zero in every failure column (on the code before issue 11's fixes, the
deep-nesting, control-chars, content-type, path, headers and business families did not).
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
    failed = {c: examples(result, family, c) for c in COLUMNS if total(result, family, c)}
    assert not failed


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

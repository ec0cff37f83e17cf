"""Every corpus answer through the SDK's reading path: what each real shape becomes.

An answer of infcode 0 is a success with exactly the warnings its index entry lists; the
recorded refusal is a refusal; the recorded body that is not JSON is unknown.
"""

from __future__ import annotations

import re

import httpx
import pytest

from nhsa import spec
from nhsa.client import Rejected, Succeeded, Unknown
from nhsa.client._classify import AnswerPatterns, classify
from nhsa.idcard import has_valid_check_char
from tests.corpus import DIALECTS, HERE, Entry, answers, requests

ANSWERS = [entry for dialect in DIALECTS for entry in answers(dialect)]
ANY_MSGID = "H53010100001202611231015300001"
OUTCOMES = {"succeeded": Succeeded, "rejected": Rejected, "unknown": Unknown}


@pytest.mark.parametrize("entry", ANSWERS, ids=lambda e: e.id)
def test_a_corpus_answer_reads_as_its_index_says(entry: Entry) -> None:
    outcome = classify(
        httpx.Response(200, content=entry.path.read_bytes()),
        infno=entry.infno,
        msgid=entry.details.get("msgid", ANY_MSGID),
        patterns=AnswerPatterns(),
        verify=None,
        response_body="json",
        dialect=spec.dialect(entry.dialect),
    )
    assert isinstance(outcome, OUTCOMES[entry.details["outcome"]])
    if isinstance(outcome, Succeeded):
        assert [[w.kind, w.pointer] for w in outcome.warnings] == entry.details["warnings"]
        assert [s.member for s in outcome.unusable] == entry.details.get("unusable", [])
        assert all(str(w) for w in outcome.warnings)


def test_every_dialect_has_a_corpus_and_every_profile_a_folder() -> None:
    assert set(DIALECTS) == set(spec.dialect_names())
    for dialect in DIALECTS:
        assert answers(dialect), dialect
        assert requests(dialect), dialect


def test_every_success_in_the_corpus_is_usable_by_the_sdk() -> None:
    successes = [e for e in ANSWERS if e.details["outcome"] == "succeeded"]
    assert len(successes) >= 15
    assert all(not e.details.get("unusable") for e in successes)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_index_lists_every_message_and_only_those(dialect: str) -> None:
    listed = {e.path for e in answers(dialect) + requests(dialect)}
    present = set((HERE / dialect).glob("*/*/*.json"))
    assert listed == present


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_entry_names_its_public_source(dialect: str) -> None:
    labels = re.compile(r"^(A|B|C1|C2|D|E|F|G|H|K) [\w.-]+/[\w.-]+@[0-9a-f]{7,40} \S")
    for entry in answers(dialect) + requests(dialect):
        assert entry.shape.strip(), entry.id
        assert labels.match(entry.source), entry.id


@pytest.mark.parametrize("dialect", DIALECTS)
def test_identity_numbers_in_the_corpus_are_well_formed_inventions(dialect: str) -> None:
    numbers = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
    for path in sorted((HERE / dialect).glob("*/*/*.json")):
        for number in numbers.findall(path.read_text("utf-8")):
            if number[6:8] in ("19", "20"):  # an ID number's birth year, not a long serial
                assert has_valid_check_char(number), f"{path.name}: bad check digit"

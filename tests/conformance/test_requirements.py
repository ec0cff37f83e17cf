"""requirements.csv: the bundled file loads; every malformed row names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nhsa.conformance import RequirementsError, bundled_requirements, load_requirements
from nhsa.conformance._requirements import parse_requirements

HEADER = "id,text,level,actor,source,stage,not_tested_reason\n"


def test_the_bundled_requirements_load() -> None:
    reqs = bundled_requirements()
    assert len(reqs) >= 30
    assert reqs["HIS-REV-002"].required
    assert reqs["HIS-SES-003"].level == "SHOULD"
    assert reqs["HIS-MOD-003"].actors == ("kiosk",)
    untested = [r for r in reqs.values() if not r.tested]
    assert untested
    assert all(len(r.not_tested_reason) > 20 for r in untested)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("HIS-X,t,SHALL,HIS,§1,lab,", "expected a form like HIS-REV-002"),
        ("HIS-ABC-001,t,MUST,HIS,§1,lab,", "level 'MUST' must be SHALL or SHOULD"),
        ("HIS-ABC-001,t,SHALL,doctor,§1,lab,", "actor must be one or more of HIS, window, kiosk"),
        ("HIS-ABC-001,t,SHALL,HIS,§1,audit,", "stage must be one or more of lab"),
        ("HIS-ABC-001,t,SHALL,HIS,,lab,", "source is empty"),
        ("HIS-ABC-001,,SHALL,HIS,§1,lab,", "text is empty"),
        ("HIS-ABC-001,t,SHALL,HIS,§1,lab", "expected 7 cells, found 6"),
    ],
)
def test_bad_rows_name_their_line(row: str, problem: str) -> None:
    text = HEADER + "HIS-OK-001,fine,SHALL,HIS,§1,lab,\n" + row + "\n"
    with pytest.raises(RequirementsError) as caught:
        parse_requirements(text, "lab.csv")
    assert caught.value.line == 3
    assert problem in str(caught.value)


def test_duplicates_and_columns_are_checked(tmp_path: Path) -> None:
    with pytest.raises(RequirementsError, match="duplicate id HIS-OK-001 \\(first at line 2\\)"):
        parse_requirements(
            HEADER + "HIS-OK-001,a,SHALL,HIS,§1,lab,\nHIS-OK-001,b,SHALL,HIS,§1,lab,\n", "x.csv"
        )
    with pytest.raises(RequirementsError, match="unknown columns: colour"):
        parse_requirements(HEADER.strip() + ",colour\n", "x.csv")
    with pytest.raises(RequirementsError, match="cannot read"):
        load_requirements(tmp_path / "missing.csv")


def test_a_lab_adds_its_own_requirements(tmp_path: Path) -> None:
    extra = tmp_path / "lab.csv"
    extra.write_text(
        HEADER + "LAB-KSK-001,Receipts carry the prefix.,SHOULD,kiosk,lab rule 7,acceptance,\n",
        encoding="utf-8",
    )
    merged = bundled_requirements().merged(load_requirements(extra))
    assert "LAB-KSK-001" in merged
    assert "HIS-MSG-001" in merged
    clash = tmp_path / "clash.csv"
    clash.write_text(HEADER + "HIS-MSG-001,again,SHALL,HIS,§1,lab,\n", encoding="utf-8")
    with pytest.raises(RequirementsError, match="already defined: HIS-MSG-001"):
        bundled_requirements().merged(load_requirements(clash))

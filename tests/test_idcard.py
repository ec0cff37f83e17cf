"""GB 11643 resident ID numbers: the one implementation the SDK, mock, redaction and suite share."""

from __future__ import annotations

from datetime import date

import pytest

from nhsa.idcard import check_char, has_valid_check_char, id_number_problem, id_numbers_in

VALID = "530102198503150018"  # invented: Kunming Wuhua district, 1985-03-15, male


def test_check_char_follows_the_weighted_sum() -> None:
    # 5*7 + 3*9 + 0*10 + 1*5 + 0*8 + 2*4 + 1*2 + 9*1 + 8*6 + 5*3 + 0*7 + 3*9 + 1*10 + 5*5
    # + 0*8 + 0*4 + 1*2 = 213; 213 % 11 = 4; "10X98765432"[4] = '8'
    assert check_char(VALID[:17]) == "8"
    assert check_char("11010519491231002") == "X"
    with pytest.raises(ValueError, match="17 digits"):
        check_char("1234")


def test_a_valid_number_matching_its_person_has_no_problem() -> None:
    assert id_number_problem(VALID, brdy=date(1985, 3, 15), gend="1") is None


@pytest.mark.parametrize(
    ("number", "kwargs", "rule", "words"),
    [
        ("53010219850315001", {}, "gb11643-shape", "got 17 characters"),
        ("5301021985031500A8", {}, "gb11643-shape", "check character (digit or X)"),
        ("530102198513150011", {}, "gb11643-birth-date", "calendar date"),
        ("530102198503150019", {}, "gb11643-check-digit", "requires '8'"),
        (VALID, {"brdy": date(1985, 3, 16)}, "gb11643-brdy", "birth date 1985-03-15"),
        (VALID, {"gend": "2"}, "gb11643-gend", "encodes gend 1"),
    ],
)
def test_each_problem_is_named_without_repeating_the_number(
    number: str, kwargs: dict[str, object], rule: str, words: str
) -> None:
    problem = id_number_problem(number, **kwargs)  # type: ignore[arg-type]
    assert problem is not None
    assert problem.rule == rule
    assert words in problem.message
    assert number not in problem.message


def test_check_char_test_accepts_lower_case_x_and_rejects_other_lengths() -> None:
    assert has_valid_check_char("11010519491231002x")
    assert not has_valid_check_char(VALID[:-1])
    assert not has_valid_check_char(VALID[:-1] + "9")


def test_only_valid_standalone_numbers_are_found_in_text() -> None:
    text = f"certno={VALID}; order 530102198503150019; id {VALID}7; card A{VALID}"
    assert [m.group(0) for m in id_numbers_in(text)] == [VALID]

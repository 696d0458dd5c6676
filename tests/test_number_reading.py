"""Reading numbers, class by class (issue 13): one answer, one separator rule, honest slips, and
the answer shown as written."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from grader.core.report import Status
from grader.parsing.errors import AnswerParseError
from grader.parsing.numbers import DECIMAL_COMMA, THOUSANDS, number_readings, parse_number_text
from tests.kinds_helpers import grade
from tests.test_kind_number import DW3, FLOPS, WIDTH

RELATIVE: dict[str, Any] = {**FLOPS, "tolerance": {"mode": "relative", "rtol": 1e-6}}
LOOSE: dict[str, Any] = {**FLOPS, "tolerance": {"mode": "absolute", "atol": 2e6}}

READINGS = [
    # where a comma can only be a decimal comma, it is one
    ("leading_zero_three_digits", "0,001", [(Fraction(1, 1000), "")]),
    ("leading_zero_four_digits", "0,0006", [(Fraction(6, 10000), "")]),
    ("two_digits_after", "12,5", [(Fraction(25, 2), "")]),
    ("long_integer_part", "1153840,5", [(Fraction(2307681, 2), "")]),
    ("negative_decimal_comma", "-0,5", [(Fraction(-1, 2), "")]),
    # where both readings are possible, both are returned
    ("one_comma_three_digits", "59,476", [(Fraction(59476), THOUSANDS),
                                          (Fraction(59476, 1000), DECIMAL_COMMA)]),
    ("ambiguous_with_scale", "1,5 million", [(Fraction(3, 2) * 10**6, "")]),
    ("ambiguous_negative", "-1,153", [(Fraction(-1153), THOUSANDS),
                                      (Fraction(-1153, 1000), DECIMAL_COMMA)]),
    # thousands only
    ("two_commas", "1,153,840", [(Fraction(1153840), "")]),
    ("comma_groups_and_point", "1,153.5", [(Fraction(2307, 2), "")]),
    ("space_groups", "48 120", [(Fraction(48120), "")]),
    ("boxed_space_groups", r"$\boxed{61 706}$", [(Fraction(61706), "")]),
    ("unit_after_groups", "1,153,840 FLOPs", [(Fraction(1153840), "")]),
    ("scientific", "1.15384e6", [(Fraction(1153840), "")]),
    ("full_width_digits", "１１５３８４０", [(Fraction(1153840), "")]),
    ("full_width_comma_groups", "１，１５３，８４０", [(Fraction(1153840), "")]),
    ("sign_with_space", "- 398", [(Fraction(-398), "")]),
    # arithmetic: groups that can only be thousands are joined first
    ("arithmetic_space_groups", "156 + 2416 + 48 120 + 10 164 + 850", [(Fraction(61706), "")]),
    ("arithmetic_comma_groups", "1,151,280 + 2560", [(Fraction(1153840), "")]),
    ("arithmetic_root_without_braces", "2√52321 - 398", None),
    ("arithmetic_full_width", "（156 + 2416）＊2", [(Fraction(5144), "")]),
]


@pytest.mark.parametrize(("text", "expected"), [r[1:] for r in READINGS], ids=[r[0] for r in READINGS])
def test_readings(text: str, expected: list[tuple[Fraction, str]] | None) -> None:
    readings = number_readings(text)
    if expected is None:  # a float result: 2√52321 − 398
        assert len(readings) == 1 and abs(float(readings[0].value) - 59.47568) < 1e-5
    else:
        assert [(r.value, r.how) for r in readings] == expected


NOT_ONE_NUMBER = [
    ("comma_space_list", "1153840, 9999999", "several_answers", "give one answer"),
    ("or_choice", "5 or 6", "several_answers", "give one answer"),
    ("and_pair", "1.5 and 2", "several_answers", "give one answer"),
    ("semicolon_list", "5;6", "several_answers", "give one answer"),
    ("enumeration_comma_list", "5、6", "several_answers", "give one answer"),
    ("side_by_side", "12 3", "several_answers", "side by side"),
    ("named_values", "a = 5, b = 6", "several_answers", "give one answer"),
    ("comparison", "5>=5", "several_answers", "comparison"),
    ("double_equals", "5==5", "several_answers", "comparison"),
    ("ambiguous_without_a_reference", "59,476", "ambiguous_separator", "59476 or 59.476"),
    ("bad_groups", "61,70,6", "unreadable", "is not a number"),
    ("zero_led_groups", "0 001", "unreadable", "is not a number"),
    ("arithmetic_with_an_ambiguous_group", "59,476 + 1", "unreadable", "is not a number"),
    ("arithmetic_with_numbers_side_by_side", "12 3 + 1", "unreadable", "is not a number"),
]


@pytest.mark.parametrize(("text", "kind", "fragment"), [r[1:] for r in NOT_ONE_NUMBER],
                         ids=[r[0] for r in NOT_ONE_NUMBER])
def test_not_one_number(text: str, kind: str, fragment: str) -> None:
    with pytest.raises(AnswerParseError) as err:
        parse_number_text(text)
    assert err.value.kind == kind
    assert fragment in str(err.value)
    assert str(err.value).startswith("your answer")


VERDICTS = [
    # lists are never one number, whatever the tolerance
    ("list_under_relative_tolerance", RELATIVE, "1153840, 9999999", Status.INVALID, "give one answer"),
    ("or_under_relative_tolerance", RELATIVE, "1153840 or 1153841", Status.INVALID, "give one answer"),
    ("list_with_the_answer_first", FLOPS, "1,153,840; 578,560", Status.INVALID, "give one answer"),
    # separators
    ("decimal_comma_right", DW3, "0,0006", Status.CORRECT, "correct"),
    ("decimal_comma_wrong_is_not_a_slip", DW3, "0,001", Status.INCORRECT, "0,001 is not correct"),
    ("ambiguous_decimal_reading_used", WIDTH, "59,476", Status.CORRECT,
     "read as 59.476, the comma read as a decimal comma"),
    ("ambiguous_thousands_reading_used", FLOPS, "578,560", Status.INCORRECT,
     "read as 578560, the comma read as a thousands separator"),
    ("ambiguous_neither", FLOPS, "1,153", Status.INCORRECT,
     "read either as 1153 (the comma read as a thousands separator) or as 1.153"),
    ("ambiguous_neither_with_a_slip", FLOPS, "115,384", Status.INCORRECT,
     "read as 115384 it looks like a misplaced decimal point"),
    ("ambiguous_both_match", LOOSE, "59,476", Status.INVALID, "cannot tell which you meant"),
    ("thousands_groups", FLOPS, "1,153,840", Status.CORRECT, "your answer is correct"),
    ("space_groups_boxed", FLOPS, r"$\boxed{1 153 840}$", Status.CORRECT, "your answer is correct"),
    # misplaced decimal point: a nonzero answer with the right digits only
    ("power_of_ten_slip", FLOPS, 115384, Status.INCORRECT, "factor of 0.1"),
    ("power_of_ten_slip_small", DW3, "0.0062", Status.INCORRECT, "factor of 10"),
    ("zero_is_not_a_slip", DW3, "0", Status.INCORRECT, "your answer 0 is not correct"),
    ("tiny_is_not_a_slip", DW3, "1e-12", Status.INCORRECT, "your answer 1e-12 is not correct"),
    ("other_digits_are_not_a_slip", FLOPS, 215384, Status.INCORRECT, "215384 is not correct"),
    # shown as written
    ("shown_as_written", FLOPS, "1153840.0000001", Status.INCORRECT, "1153840.0000001 is not correct"),
    ("float_shown_as_written", FLOPS, 1153840.0000001, Status.INCORRECT,
     "1153840.0000001 is not correct"),
    ("float_within_tolerance", RELATIVE, 1153840.0000001, Status.CORRECT, "correct"),
]


@pytest.mark.parametrize(("data", "raw", "status", "fragment"), [r[1:] for r in VERDICTS],
                         ids=[r[0] for r in VERDICTS])
def test_verdicts(data: dict[str, Any], raw: Any, status: Status, fragment: str) -> None:
    verdict = grade(data, raw)
    assert verdict.status is status, verdict.feedback
    assert fragment in verdict.feedback
    if raw in ("0", "1e-12", 215384, "0,001"):
        assert "misplaced" not in verdict.feedback and "sign" not in verdict.feedback


@pytest.mark.parametrize(("raw", "shown"), [
    ("1153840.0000001", "1153840.0000001"),
    (1153840.0000001, "1153840.0000001"),
    ("1,153,840 FLOPs", "1,153,840 FLOPs"),
    ("59,476", "59,476"),
    (1153840, "1153840"),
], ids=["string", "float", "with_unit", "ambiguous", "integer"])
def test_the_report_shows_the_answer_as_written(raw: Any, shown: str) -> None:
    assert grade(FLOPS, raw).answer == shown


def _flops_question() -> Any:
    from grader.core.rubric import load_rubric, resolve_assignment

    return load_rubric(resolve_assignment("csc420-a2")).rubric.question("q3_flops_no_bias")


SAME_ANSWER = [
    ("thousands_reading_and_integer", "578,560", 578560, True),
    ("same_ambiguous_text", "59,476", "59,476", True),
    ("ambiguous_and_decimal", "59,476", "59.476", True),
    ("ambiguous_and_neither", "59,476", "59.5", False),
    ("integer_and_grouped", 1153840, "1,153,840", True),
]


@pytest.mark.parametrize(("left", "right", "same"), [r[1:] for r in SAME_ANSWER],
                         ids=[r[0] for r in SAME_ANSWER])
def test_groups_compare_every_reading(left: Any, right: Any, same: bool) -> None:
    from grader.batch.groups import same_answer

    assert same_answer(_flops_question(), left, right) is same
    assert same_answer(_flops_question(), right, left) is same


def test_a_read_number_survives_pickling_and_copying() -> None:
    import copy
    import pickle

    from grader.checkers.number import AmbiguousNumber, WrittenNumber

    written = WrittenNumber(Fraction(3, 2), "1,5")
    ambiguous = AmbiguousNumber((Fraction(59476), Fraction(59476, 1000)), "59,476")
    for value in (written, ambiguous):
        for again in (pickle.loads(pickle.dumps(value)), copy.deepcopy(value), copy.copy(value)):
            assert again == value and again.written == value.written
    assert pickle.loads(pickle.dumps(ambiguous)).readings == ambiguous.readings
    assert type(written + 1) is Fraction

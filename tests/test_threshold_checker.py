"""The `threshold_network` question kind: reading answers, verdicts and feedback, rubric checks,
and the CLI on the apl405-hw2 examples."""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction as F
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from grader.checkers.base import GradingContext
from grader.checkers.network import ThresholdNetworkQuestion
from grader.cli import cli
from grader.core.report import Status
from grader.core.rubric import RubricError, load_rubric
from grader.core.submission import read_answers_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "submissions_example" / "apl405-hw2"
DESCENDING = ["x1 > x2", "x2 > x3", "x3 > x4", "x4 > x5"]


def question(**changes: Any) -> ThresholdNetworkQuestion:
    params = {"inputs": 5, "hidden_units": 4, "threshold": "ge", "target": {"all_of": DESCENDING}}
    params.update(changes.pop("params", {}))
    data: dict[str, Any] = {
        "id": "q1",
        "kind": "threshold_network",
        "points": 3,
        "reference": {"function": "threshold_network_design", "params": params},
        "known_mistakes": [
            {"name": "ties", "when": "accepts_boundary", "feedback": "ties are not descending"},
            {
                "name": "margin",
                "when": "misses_near_boundary",
                "feedback": "a margin misses small gaps",
                "credit": 0.5,
            },
        ],
    }
    data.update(changes)
    return ThresholdNetworkQuestion.model_validate(data)


def answer(text: str) -> Any:
    """The answer as the answers loader reads it (floats stay the decimals written)."""
    return read_answers_text("q1:\n" + textwrap.indent(textwrap.dedent(text), "  "), ".yaml")["q1"]


CTX = GradingContext(submission_root=None, student="s")

REFERENCE = """
W1: [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 0, -1, 1]]
b1: [0, 0, 0, 0]
w2: [-1, -1, -1, -1]
b2: 0.5
"""
BOB = """
W1: [[1, -1, 0, 0, 0], [0, 1, -1, 0, 0], [0, 0, 1, -1, 0], [0, 0, 0, 1, -1]]
b1: [-0.001, -0.001, -0.001, -0.001]
w2: [1, 1, 1, 1]
b2: -4
"""

VERDICTS = [
    # id, answer, status, credit, mistake, feedback fragments
    (
        "reference",
        REFERENCE,
        Status.CORRECT,
        1.0,
        None,
        ["your answer is correct", "x1 > x2 > x3 > x4 > x5"],
    ),
    (
        "strings and fractions",
        """
        W1: [["-1/2", "0.5", 0, 0, 0], [0, -2, 2, 0, 0], [0, 0, "-1e0", 1, 0], [0, 0, 0, -3, 3]]
        b1: ["0", 0, 0.0, 0]
        w2: ["-1/3", -1, -1, -1]
        b2: [0.1]
     """,
        Status.CORRECT,
        1.0,
        None,
        ["correct"],
    ),
    (
        "array names written loosely",
        REFERENCE.replace("W1:", "W^(1):").replace("b2:", "b_2:"),
        Status.CORRECT,
        1.0,
        None,
        ["correct"],
    ),
    (
        "margin 0.001 (partial credit)",
        BOB,
        Status.PARTIAL,
        0.5,
        "margin",
        [
            "your answer is not correct: at x = (",
            "outputs 0 (no hidden unit fired)",
            "holds there",
            "a margin misses small gaps",
        ],
    ),
    (
        "ties",
        BOB.replace("-0.001", "0"),
        Status.INCORRECT,
        0.0,
        "ties",
        [
            "outputs 1 (hidden units fired: 1, 2, 3, 4)",
            "does not hold there",
            "ties are not descending",
        ],
    ),
    (
        "a violation still firing",
        REFERENCE.replace("w2: [-1, -1, -1, -1]", "w2: [-1, -1, -1, 0]"),
        Status.INCORRECT,
        0.0,
        "accepts_outside",
        ["arbitrarily far outside the target"],
    ),
    (
        "never firing",
        REFERENCE.replace("b2: 0.5", "b2: -0.5"),
        Status.INCORRECT,
        0.0,
        "never_fires",
        ["outputs 0 for every input"],
    ),
]


@pytest.mark.parametrize(
    ("text", "status", "credit", "mistake", "fragments"),
    [v[1:] for v in VERDICTS],
    ids=[v[0] for v in VERDICTS],
)
def test_verdicts(
    text: str, status: Status, credit: float, mistake: str | None, fragments: list[str]
) -> None:
    verdict = question().grade(answer(text), CTX)
    assert (verdict.status, verdict.credit, verdict.mistake) == (status, credit, mistake)
    for fragment in fragments:
        assert fragment in verdict.feedback
    assert verdict.expected is not None and "b2 = 0.5" in verdict.expected


def test_counterexample_details_re_evaluate_exactly() -> None:
    verdict = question().grade(answer(BOB), CTX)
    (found,) = verdict.details["counterexamples"]
    x = [F(v) for v in found["x"]]
    hidden = [int(a - b - F(1, 1000) >= 0) for a, b in pairwise(x)]
    assert [i + 1 for i, h in enumerate(hidden) if h] == found["hidden_fired"]
    assert int(sum(hidden) - 4 >= 0) == found["network_output"] == 0
    assert all(a > b for a, b in pairwise(x)) and found["target_output"] == 1
    json.dumps(verdict.details)  # serialisable as it is


INVALID = [
    # id, answer, fragments
    ("not a mapping", "[1, 2, 3]", ["should be a mapping of the arrays (W1: 4×5, b1: 4 numbers"]),
    ("missing b2", REFERENCE.replace("b2: 0.5", ""), ["b2 (a single number) is missing"]),
    (
        "W1 transposed",
        REFERENCE.replace(
            "W1: [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 0, -1, 1]]",
            "W1: [[-1, 0, 0, 0], [1, -1, 0, 0], [0, 1, -1, 0], [0, 0, 1, -1], [0, 0, 0, 1]]",
        ),
        ["W1 should be a 4×5 array", "(one row per hidden unit)", "yours has 5 rows"],
    ),
    ("ragged W1", REFERENCE.replace("[0, -1, 1, 0, 0]", "[0, -1, 1, 0]"), ["lengths 5, 4, 5, 5"]),
    (
        "a word for a number",
        REFERENCE.replace("b1: [0, 0, 0, 0]", "b1: zero"),
        ["b1 should be a list of 4 numbers, not 'zero'"],
    ),
    (
        "a word inside an array",
        REFERENCE.replace("w2: [-1, -1, -1, -1]", "w2: [-1, minus one, -1, -1]"),
        ["w2[2] is 'minus one', not a number"],
    ),
    ("a yes/no value", REFERENCE.replace("b2: 0.5", "b2: true"), ["b2 is true, not a number"]),
    ("not finite", REFERENCE.replace("b2: 0.5", "b2: .nan"), ["b2 is"]),
    (
        "b1 too long",
        REFERENCE.replace("b1: [0, 0, 0, 0]", "b1: [0, 0, 0, 0, 0]"),
        ["b1 should be a list of 4 numbers, not a list of 5"],
    ),
    (
        "b2 a list of two",
        REFERENCE.replace("b2: 0.5", "b2: [0.5, 1]"),
        ["b2 should be a single number"],
    ),
    ("an array the question does not ask for", REFERENCE + "W2: [1]\n", ["'W2'", "given twice"]),
    ("an unknown array", REFERENCE + "bias: 1\n", ["'bias', which is not one of the arrays"]),
    ("a huge number", REFERENCE.replace("b2: 0.5", "b2: 1e300"), ["has more than 100 digits"]),
]


@pytest.mark.parametrize(
    ("text", "fragments"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID]
)
def test_unreadable_answers_are_invalid_and_say_why(text: str, fragments: list[str]) -> None:
    verdict = question().grade(answer(text), CTX)
    assert verdict.status is Status.INVALID
    assert verdict.feedback.startswith("your answer ")
    for fragment in fragments:
        assert fragment in verdict.feedback


def test_blank_answer_is_missing() -> None:
    assert question().grade(answer("null"), CTX).status is Status.MISSING


def test_gt_convention_and_other_array_names() -> None:
    q = question(
        params={"threshold": "gt"},
        arrays={
            "hidden_weights": "V",
            "hidden_bias": "c",
            "output_weights": "u",
            "output_bias": "d",
        },
    )
    gaps = "V: [[1, -1, 0, 0, 0], [0, 1, -1, 0, 0], [0, 0, 1, -1, 0], [0, 0, 0, 1, -1]]\n"
    right = answer(gaps + "c: [0, 0, 0, 0]\nu: [1, 1, 1, 1]\nd: -3.5\n")
    assert q.grade(right, CTX).status is Status.CORRECT
    sheet = answer(
        REFERENCE.replace("W1", "V").replace("b1", "c").replace("w2", "u").replace("b2", "d")
    )
    assert q.grade(sheet, CTX).mistake == "ties"
    assert q.reference_answer(CTX) == {
        "V": [[1, -1, 0, 0, 0], [0, 1, -1, 0, 0], [0, 0, 1, -1, 0], [0, 0, 0, 1, -1]],
        "c": [0, 0, 0, 0],
        "u": [1, 1, 1, 1],
        "d": -3.5,
    }


def test_randomised_params_reach_the_verifier() -> None:
    targets = [{"all_of": ["x5 > x4 > x3 > x2 > x1"]}]
    randomised = question(randomise={"params": {"target": {"dist": "choice", "values": targets}}})
    ascending = answer(
        REFERENCE.replace(
            "W1: [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 0, -1, 1]]",
            "W1: [[1, -1, 0, 0, 0], [0, 1, -1, 0, 0], [0, 0, 1, -1, 0], [0, 0, 0, 1, -1]]",
        )
    )
    assert randomised.grade(ascending, CTX).status is Status.CORRECT
    assert question().grade(ascending, CTX).status is Status.INCORRECT


# --- rubric checks -------------------------------------------------------------------------------

RUBRIC_PROBLEMS = [
    (
        "another reference function",
        {"reference": {"function": "mlp_params", "params": {}}},
        "uses 'threshold_network_design'",
    ),
    (
        "unreadable target",
        {"params": {"target": {"all_of": ["x1 >> x2"]}}},
        "reference.params.target",
    ),
    ("an input that does not exist", {"params": {"target": {"all_of": ["x9 > x1"]}}}, "x1..x5"),
    ("too large", {"params": {"hidden_units": 20}}, "too large for exact verification"),
    (
        "no constructed design",
        {"params": {"hidden_units": 3}},
        "needs one hidden unit per inequality, 4",
    ),
    (
        "two feedbacks for one kind",
        {
            "known_mistakes": [
                {"name": "a", "when": "never_fires", "feedback": "x"},
                {"name": "b", "when": "never_fires", "feedback": "y"},
            ]
        },
        "two entries for 'never_fires'",
    ),
]


@pytest.mark.parametrize(
    ("changes", "message"), [r[1:] for r in RUBRIC_PROBLEMS], ids=[r[0] for r in RUBRIC_PROBLEMS]
)
def test_rubric_problems_are_located(changes: dict[str, Any], message: str) -> None:
    q = question(**changes)
    problems = q.rubric_problems(compute=True)
    assert any(message in p for p in problems), problems


def test_a_sound_question_has_no_rubric_problems() -> None:
    assert question().rubric_problems(compute=True) == []


def _rubric_file(tmp_path: Path, entry: dict[str, Any]) -> Path:
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump({"assignment": "t", "questions": [entry]}, sort_keys=False))
    return path


def test_load_rubric_names_question_and_field(tmp_path: Path) -> None:
    entry = question(params={"hidden_units": 20}).model_dump(mode="json")
    with pytest.raises(RubricError) as err:
        load_rubric(_rubric_file(tmp_path, entry))
    assert "question 'q1' (questions[0]): field max_linear_programs: too large" in "\n".join(
        err.value.problems
    )


def test_bad_array_names_are_a_schema_error(tmp_path: Path) -> None:
    entry = question().model_dump(mode="json")
    entry["arrays"] = {"hidden_weights": "W", "hidden_bias": "w"}
    with pytest.raises(RubricError, match="array names must be non-empty and differ"):
        load_rubric(_rubric_file(tmp_path, entry))


# --- the CLI on the built-in assignment ----------------------------------------------------------


def _grade(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["grade", str(path), "-a", "apl405-hw2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    return next(q for q in report["questions"] if q["id"] == "q1_threshold_net")


@pytest.mark.parametrize(
    ("submission", "status", "fragment"),
    [
        ("alice", "correct", "checked exactly over all real inputs"),
        ("bob", "incorrect", "to exceed a margin"),
        ("carol.yaml", "invalid", "W1 should be a 4×5 array"),
    ],
    ids=["alice", "bob", "carol"],
)
def test_examples(submission: str, status: str, fragment: str) -> None:
    result = _grade(EXAMPLES / submission)
    assert result["status"] == status
    assert fragment in result["feedback"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "answers.json",
            json.dumps(
                {
                    "q1_threshold_net": {
                        "W1": [
                            [-1, 1, 0, 0, 0],
                            [0, -1, 1, 0, 0],
                            [0, 0, -1, 1, 0],
                            [0, 0, 0, -1, 1],
                        ],
                        "b1": [0, 0, 0, 0],
                        "w2": [-1, -1, -1, -1],
                        "b2": 0.5,
                    }
                }
            ),
        ),
        (
            "answers.toml",
            "[q1_threshold_net]\nW1 = [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], "
            "[0, 0, 0, -1, 1]]\nb1 = [0, 0, 0, 0]\nw2 = [-1, -1, -1, -1]\nb2 = 0.5\n",
        ),
    ],
    ids=["json", "toml"],
)
def test_other_answer_formats(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    assert _grade(tmp_path)["status"] == "correct"


@pytest.mark.parametrize(("b2", "status"), [("0.3", Status.INCORRECT), ("0.29", Status.CORRECT)])
def test_decimals_decide_not_binary_floats(b2: str, status: Status) -> None:
    """Units 1 and 2 fire together; 0.3 - 0.1 - 0.2 is 0 (the output fires on a violation), while
    in binary floats it is -2.8e-17 and a float-based grader would call the network correct."""
    q = question(params={"inputs": 3, "target": {"all_of": ["x1 > x2 > x3"]}})
    text = f"""
        W1: [[-1, 1, 0], [-1, 1, 0], [0, -1, 1], [0, -1, 1]]
        b1: [0, 0, 0, 0]
        w2: [-0.1, -0.2, -1, -1]
        b2: {b2}
    """
    assert 0.3 - 0.1 - 0.2 < 0
    verdict = q.grade(answer(text), CTX)
    assert verdict.status is status
    if status is Status.INCORRECT:
        assert verdict.details["counterexamples"][0]["hidden_fired"] == [1, 2]


def test_reference_prints_the_constructed_design() -> None:
    result = CliRunner().invoke(cli, ["reference", "apl405-hw2", "--json"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["questions"]["q1_threshold_net"]
    assert entry["params"]["target"] == {"all_of": DESCENDING}
    assert entry["answer"] == {
        "W1": [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 0, -1, 1]],
        "b1": [0, 0, 0, 0],
        "w2": [-1, -1, -1, -1],
        "b2": 0.5,
    }


def test_rubric_validate_reports_a_too_large_question(tmp_path: Path) -> None:
    entry = question(params={"hidden_units": 20}).model_dump(mode="json")
    result = CliRunner().invoke(cli, ["rubric", "validate", str(_rubric_file(tmp_path, entry))])
    assert result.exit_code == 2
    assert "too large for exact verification" in result.output


def test_builtin_rubric_validates() -> None:
    result = CliRunner().invoke(
        cli, ["rubric", "validate", str(ROOT / "rubrics" / "apl405-hw2.yaml")]
    )
    assert result.exit_code == 0, result.output

"""The comparisons themselves, as the worker runs them (or the grader, in-process): a formula
answer against its candidates (`scalar`, `matrix`), what a formula depends on (`depends`), and a
symbolic reference (`reference`)."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from grader.mathworker.protocol import CandidateResult, MathRequest, MathResponse, ScalarSpace
from grader.parsing.errors import AnswerParseError


def run_check(request: MathRequest) -> MathResponse:
    if request.kind == "reference":
        return reference_response(request)
    started = time.perf_counter()
    try:
        if request.kind == "depends":
            results = _depends(request)
        else:
            results = _scalar(request) if request.kind == "scalar" else _matrix(request)
        response = MathResponse(status="ok", results=results)
    except _ShapeVerdict as verdict:
        response = MathResponse(status="shape_error", message=str(verdict), results=verdict.results)
    except AnswerParseError as err:
        from grader.mathparse.matrix import ShapeError

        status: Literal["shape_error", "invalid"] = (
            "shape_error" if isinstance(err, ShapeError) else "invalid"
        )
        response = MathResponse(status=status, message=str(err))
    except (MemoryError, RecursionError) as err:
        response = MathResponse(status="crashed", message=type(err).__name__)
    response.seconds = time.perf_counter() - started
    return response


def reference_response(request: MathRequest) -> MathResponse:
    """In the worker: a reference answer as JSON text, when it survives the round trip unchanged."""
    from grader.core.refcache import portable_json
    from reference import get_reference

    started = time.perf_counter()
    try:
        text = portable_json(get_reference(request.function).compute(request.params))
    except Exception as err:  # the grader computes it itself and reports the failure there
        return MathResponse(status="invalid", message=f"{type(err).__name__}: {err}")
    if text is None:
        return MathResponse(status="invalid", message="the answer does not survive JSON")
    return MathResponse(status="ok", value=text, seconds=time.perf_counter() - started)


def _scalar(request: MathRequest) -> list[CandidateResult]:
    from grader.mathparse import prepare
    from grader.mathparse.equivalence import compare_many
    from grader.mathparse.parser import ParseConfig

    assert request.space is not None
    space = request.space
    names = frozenset(space.variables) | frozenset(space.definitions)
    config = ParseConfig("scalar", names, aliases=space.aliases)
    got = prepare(request.answer, config)
    key = (names, tuple(sorted(space.aliases.items())))
    candidates = [_prepared(text, key, config) for text in request.candidates]
    comparisons = compare_many(got, candidates, probe_space(space))
    return [CandidateResult.model_validate(c, from_attributes=True) for c in comparisons]


def _depends(request: MathRequest) -> list[CandidateResult]:
    """Does the answer's value depend on these functions (`functions:a,b`) or this variable
    (`variable:z`, the others held fixed)? For form rules; decided like any comparison."""
    from grader.mathparse import prepare
    from grader.mathparse.equivalence import depends_on_functions, depends_on_variable
    from grader.mathparse.parser import ParseConfig

    assert request.space is not None
    space = request.space
    names = frozenset(space.variables) | frozenset(space.definitions)
    got = prepare(request.answer, ParseConfig("scalar", names, aliases=space.aliases))
    probe = probe_space(space)
    results = []
    for query in request.candidates:
        kind, _, what = query.partition(":")
        if kind == "functions":
            answer = depends_on_functions(got, set(what.split(",")), probe)
        else:
            answer = depends_on_variable(got, what, probe)
        outcome = "undecided" if answer is None else "depends" if answer else "independent"
        results.append(CandidateResult(outcome=outcome))
    return results


_PREPARED: dict[tuple[str, Any], Any] = {}  # rubric formulas (references, mistakes), read once


def _prepared(text: str, key: Any, config: Any) -> Any:
    from grader.mathparse import prepare

    if (text, key) not in _PREPARED:
        if len(_PREPARED) > 256:
            _PREPARED.clear()
        _PREPARED[(text, key)] = prepare(text, config)
    return _PREPARED[(text, key)]


def probe_space(space: ScalarSpace) -> Any:
    """The equivalence module's view of a question's variables."""
    from grader.mathparse import prepare
    from grader.mathparse.equivalence import ProbeSpace
    from grader.mathparse.parser import ParseConfig

    base = ParseConfig("scalar", frozenset(space.variables))
    definitions = tuple((name, prepare(text, base)) for name, text in space.definitions.items())
    return ProbeSpace(
        {k: (float(v[0]), float(v[1])) for k, v in space.variables.items()},
        definitions,
        {k: (v[0], v[1]) for k, v in space.domain.items()},
    )


_WORLDS: dict[str, Any] = {}


def _matrix(request: MathRequest) -> list[CandidateResult]:
    from grader.mathparse.matrix import ShapeError, compare_matrix, infer_shape, parse_matrix
    from grader.mathparse.world import WorldSpec

    assert request.world is not None
    key = json.dumps(request.world, sort_keys=True)
    if key not in _WORLDS:
        _WORLDS[key] = WorldSpec.model_validate(request.world).world()
    world = _WORLDS[key]
    got = parse_matrix(request.answer, world)
    try:
        infer_shape(got, world.shapes(), world)
    except ShapeError as err:
        raise _ShapeVerdict(str(err), _square_comparisons(request, world)) from None
    results = []
    for text in request.candidates:
        try:
            comparison = compare_matrix(got, parse_matrix(text, world), world)
        except ShapeError:  # a listed mistake that cannot be computed: not what this answer is
            results.append(CandidateResult(outcome="different", method="shape"))
            continue
        results.append(
            CandidateResult(
                outcome=comparison.outcome, reason=comparison.message, factor=comparison.factor
            )
        )
    return results


def _square_comparisons(request: MathRequest, world: Any) -> list[CandidateResult]:
    """The answer cannot be computed with the declared shapes: compare it with every candidate in
    a world where all dimensions are equal, so that a listed mistake such as `W1 @ W2` is named."""
    from grader.mathparse.matrix import ShapeError, compare_matrix, parse_matrix

    square = world.squared()
    results = []
    for text in request.candidates:
        try:
            comparison = compare_matrix(
                parse_matrix(request.answer, square), parse_matrix(text, square), square
            )
            outcome = "equal" if comparison.outcome == "equal" else "different"
        except ShapeError:
            outcome = "different"
        results.append(CandidateResult(outcome=outcome, method="square"))
    return results


class _ShapeVerdict(Exception):
    """A shape error, with the answer compared to each candidate where all dimensions are equal."""

    def __init__(self, message: str, results: list[CandidateResult]) -> None:
        super().__init__(message)
        self.results = results

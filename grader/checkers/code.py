"""Code answers: a Python file whose function is called, boxed in, on inputs the grader draws.

The rubric names the function, the shapes and distributions of its inputs, the reference in
`reference/` and the comparison; test cases have draws, weights and may be hidden; each output
may carry its own share of a case's credit and may be checked against finite differences of a
loss. All draws of one submission run in ONE sandboxed process (`grader.sandbox.worker_call`);
the outputs come back as `.npz` and are judged here, in the parent.
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from grader.checkers.base import (
    Alternative,
    GradingContext,
    QuestionBase,
    ReferenceSpec,
    RubricModel,
    Verdict,
    is_blank,
    shorten,
)
from grader.core.report import Status
from grader.notebooks.values import NotebookCode
from grader.sandbox.api import Limits, SandboxResult, run_python
from grader.sandbox.worker_call import (
    CALL_FILE,
    IMPORTING,
    INPUTS_FILE,
    OUTPUTS_FILE,
    PROGRESS_FILE,
)

WORKER = "grader.sandbox.worker_call"
MAX_OUTPUT_ARRAYS = 10_000
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
Dim = int | tuple[int, int]
Value = np.ndarray | float


class InputSpec(RubricModel):
    """One argument of the function, drawn afresh for every draw."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    shape: list[int | str] = Field(
        default_factory=list, description="[] for a scalar; names are dims"
    )
    distribution: Literal["normal", "uniform", "one_hot"] = "normal"
    mean: float = 0.0
    std: float = Field(1.0, ge=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _one_hot_needs_classes(self) -> InputSpec:
        if self.distribution == "one_hot" and not self.shape:
            raise ValueError("a one_hot input needs a shape whose last axis holds the classes")
        if self.distribution == "uniform" and self.high < self.low:
            raise ValueError("uniform needs low <= high")
        return self


class OutputSpec(RubricModel):
    name: str = Field(description="how feedback names it, e.g. dC/dW")
    credit: float = Field(1.0, gt=0, description="its weight within a test case")
    gradient_of: str | None = Field(
        None, description="the input it is the gradient of (finite differences)"
    )


class CaseSpec(RubricModel):
    name: str | None = None
    dims: dict[str, Dim] = Field(
        default_factory=dict, description="overrides: a size or [low, high]"
    )
    draws: int = Field(1, ge=1, le=100)
    hidden: bool = Field(False, description="graded, but its inputs are never shown")
    credit: float = Field(1.0, gt=0, description="its weight among the test cases")


class ArrayTolerance(RubricModel):
    """Element-wise |got − expected| ≤ atol + rtol·|expected|."""

    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(1e-9, ge=0)


class GradientCheck(RubricModel):
    """Each `gradient_of` output is compared with central differences of this loss along a
    random direction: (L(a + εd) − L(a − εd)) / 2ε against ⟨output, d⟩."""

    loss: str = Field(description="a reference function returning the scalar loss")
    params: dict[str, Any] = Field(default_factory=dict)
    eps: float = Field(1e-6, gt=0)
    rtol: float = Field(1e-5, ge=0)
    atol: float = Field(1e-7, ge=0)


class CodeQuestion(QuestionBase):
    kind: Literal["code"] = "code"
    function: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="the function to call")
    reference: ReferenceSpec
    solution: str | None = Field(None, description="instead of `reference`: the course's own solution, "
                                 "file.py:function relative to the rubric, called with the inputs by name")
    inputs: list[InputSpec] = Field(min_length=1)
    outputs: list[OutputSpec] = Field(min_length=1)
    dims: dict[str, Dim] = Field(default_factory=dict, description="sizes: a number or [low, high]")
    cases: list[CaseSpec] = Field(min_length=1)
    tolerance: ArrayTolerance = Field(default_factory=ArrayTolerance)
    gradient_check: GradientCheck | None = None
    known_mistakes: list[Alternative] = Field(default_factory=list)
    seed: int = 0
    per_student: bool = Field(True, description="draw other inputs for every student")
    limits: Limits = Field(default_factory=Limits)

    answer_hint = "the path of your Python file in your submission"

    @model_validator(mode="after")
    def _consistent(self) -> CodeQuestion:
        names = [i.name for i in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("input names must be unique")
        for case in self.cases:
            for spec in self.inputs:
                for dim in spec.shape:
                    if isinstance(dim, str) and dim not in {**self.dims, **case.dims}:
                        raise ValueError(f"input {spec.name}: dim {dim!r} is not in dims")
        for out in self.outputs:
            if out.gradient_of is not None and out.gradient_of not in names:
                raise ValueError(f"output {out.name}: gradient_of {out.gradient_of!r} is no input")
        if any(o.gradient_of for o in self.outputs) and self.gradient_check is None:
            raise ValueError("outputs name gradient_of but there is no gradient_check")
        for alt in self.known_mistakes:
            if alt.params is None:
                raise ValueError(f"known mistake {alt.name}: give params for the reference")
        return self

    # -- drawing and computing ----------------------------------------------------------------

    def draws(self, student: str) -> list[Draw]:
        result = []
        for c, case in enumerate(self.cases):
            for d in range(case.draws):
                rng = np.random.default_rng(self._seed(student, c, d))
                dims = {k: _size(v, rng) for k, v in {**self.dims, **case.dims}.items()}
                args = {s.name: _draw_input(s, dims, rng) for s in self.inputs}
                result.append(Draw(c, d, args, int(rng.integers(2**32))))
        return result

    def _seed(self, student: str, case: int, draw: int) -> list[int]:
        who = zlib.crc32(student.encode()) if self.per_student else 0
        return [self.seed, zlib.crc32(self.id.encode()), who, case, draw]

    def expected(self, draw: Draw, overrides: dict[str, Any] | None = None) -> list[np.ndarray]:
        from reference import get_reference

        params = {**self.reference.params, **(overrides or {}), **draw.args}
        out = get_reference(self.reference.function).compute(params)
        values = list(out) if isinstance(out, tuple | list) else [out]
        return [np.asarray(v, dtype=np.float64) for v in values]

    # -- grading ------------------------------------------------------------------------------

    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        if is_blank(raw):
            return Verdict(Status.MISSING, feedback="no answer was given")
        if isinstance(raw, NotebookCode):
            return self._grade_notebook(raw, ctx)
        found = _locate_file(raw, ctx.submission_root)
        if isinstance(found, Verdict):
            return found
        return self._grade_file(found, ctx.submission_root, found, shorten(raw), ctx)  # type: ignore[arg-type]

    def _grade_notebook(self, raw: NotebookCode, ctx: GradingContext) -> Verdict:
        """The function extracted from the notebook runs like a `.py` file (grader.notebooks)."""
        from grader.notebooks.extract import staged_code

        with staged_code(raw.program, self.function, ctx.submission_root) as staged:
            if isinstance(staged, Verdict):
                return staged
            verdict = self._grade_file(staged.file, staged.folder, staged.label, staged.label, ctx)
            if staged.note:
                verdict.feedback = f"{verdict.feedback} ({staged.note})"
            return verdict

    def _grade_file(self, relative: str, root: Path, label: str, answer: str, ctx: GradingContext) -> Verdict:
        draws = self.draws(ctx.student)
        run = self._run(relative, root, draws)
        ctx.sandbox_layer = run.layer
        verdict = self._judge(run, draws, label)
        verdict.answer = answer
        verdict.costs = {"sandbox_seconds": round(run.seconds, 4),
                         "sandbox_cpu_seconds": round(run.cpu_seconds, 4)}
        return verdict

    def _run(self, relative: str, root: Path, draws: list[Draw]) -> SandboxResult:
        arrays = {
            f"{i}.{name}": np.asarray(v, dtype=np.float64)
            for i, d in enumerate(draws)
            for name, v in d.args.items()
        }
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds oddly
        call = {
            "file": posixpath.join("submission", relative),
            "function": self.function,
            "calls": len(draws),
            "args": [s.name for s in self.inputs],
            "outputs": len(self.outputs),
        }
        return run_python(
            WORKER,
            [],
            student_dir=root,
            limits=self.limits,
            inputs={CALL_FILE: json.dumps(call).encode(), INPUTS_FILE: buffer.getvalue()},
            collect=(OUTPUTS_FILE, PROGRESS_FILE),
        )

    def _judge(self, run: SandboxResult, draws: list[Draw], file: str) -> Verdict:
        failure = _process_failure(run, draws, self, file)
        if failure is not None:
            return failure
        report = run.result or {}
        outputs = _load_outputs(run.files.get(OUTPUTS_FILE))
        results = [self._judge_call(i, d, report["calls"][i], outputs) for i, d in enumerate(draws)]
        return self._verdict(results, draws, outputs)

    def _judge_call(
        self, index: int, draw: Draw, call: Any, outputs: dict[str, np.ndarray]
    ) -> CallResult:
        status = call.get("status") if isinstance(call, dict) else None
        if status != "ok":
            message = shorten(str(call.get("message", "")), 300) if isinstance(call, dict) else ""
            if status == "memory":
                message = f"ran out of memory (limit {self.limits.memory_mb} MB): {message}"
            elif status == "bad_return":
                message = f"returned the wrong thing: {message}"
            else:
                message = f"raised {message}"
            return CallResult(draw, [message] * len(self.outputs), raised=status != "bad_return")
        mutated = call.get("mutated") if isinstance(call, dict) else None
        if isinstance(mutated, list) and mutated:
            names = ", ".join(shorten(str(n), 40) for n in mutated[:5])
            message = (f"changed its input {names} in place; compute on a copy (e.g. x = x.copy()) "
                       "and leave the caller's arrays as they were")
            return CallResult(draw, [message] * len(self.outputs))
        expected = self.expected(draw)
        problems = []
        for k, (out, exp) in enumerate(zip(self.outputs, expected, strict=True)):
            got = outputs.get(f"{index}.{k}")
            problem = _compare(got, exp, self.tolerance) if got is not None else "is missing"
            if problem is None and out.gradient_of is not None and self.gradient_check is not None:
                problem = self._finite_difference(draw, out.gradient_of, got)  # type: ignore[arg-type]
            problems.append(problem)
        return CallResult(draw, problems)

    def _finite_difference(self, draw: Draw, wrt: str, got: np.ndarray) -> str | None:
        from reference import get_reference

        check = self.gradient_check
        assert check is not None
        loss = get_reference(check.loss)
        point = np.asarray(draw.args[wrt], dtype=np.float64)
        direction = np.random.default_rng(draw.fd_seed).normal(size=point.shape)

        def loss_at(step: float) -> float:
            args = {**check.params, **draw.args, wrt: point + step * direction}
            return float(loss.compute(args))

        numeric = (loss_at(check.eps) - loss_at(-check.eps)) / (2 * check.eps)
        analytic = float(np.sum(got * direction))
        if abs(numeric - analytic) <= check.atol + check.rtol * max(abs(numeric), abs(analytic)):
            return None
        return (
            f"disagrees with finite differences of the loss: along a random direction the "
            f"loss changes at {numeric:.6g}, your gradient says {analytic:.6g}"
        )

    def _verdict(
        self, results: list[CallResult], draws: list[Draw], outputs: dict[str, np.ndarray]
    ) -> Verdict:
        passed = self._case_credits(results)
        credit = sum(c.credit * passed[i] for i, c in enumerate(self.cases)) / sum(
            c.credit for c in self.cases
        )
        first = next((r for r in results if any(p is not None for p in r.problems)), None)
        details = {
            "cases": [
                {"name": self._case_name(i), "hidden": c.hidden, "credit": round(passed[i], 6)}
                for i, c in enumerate(self.cases)
            ]
        }
        if first is None:
            return Verdict(
                Status.CORRECT,
                1.0,
                f"your function {self.function} passes all {len(self.cases)} test cases",
                details=details,
            )
        text = self._failure_text(first, results)
        mistake = self._recognise_mistake(results, outputs)
        if mistake is not None:
            text = f"{mistake.feedback}; {text}"
            credit = max(credit, mistake.credit or 0.0)
        raised = any(r.raised for r in results)
        status = (
            Status.ERROR
            if raised
            else Status.CORRECT
            if credit >= 1
            else Status.PARTIAL
            if credit > 0
            else Status.INCORRECT
        )
        return Verdict(
            status, credit, text, mistake=mistake.name if mistake else None, details=details
        )

    def _case_credits(self, results: list[CallResult]) -> list[float]:
        weights = [o.credit for o in self.outputs]
        credits = []
        for c in range(len(self.cases)):
            mine = [r for r in results if r.draw.case == c]
            ok = [all(r.problems[k] is None for r in mine) for k in range(len(self.outputs))]
            credits.append(
                sum(w for w, good in zip(weights, ok, strict=True) if good) / sum(weights)
            )
        return credits

    def _case_name(self, index: int) -> str:
        name = self.cases[index].name
        return f"{index + 1}" + (f" '{name}'" if name else "")

    def _failure_text(self, first: CallResult, results: list[CallResult]) -> str:
        failed = sorted({r.draw.case for r in results if any(p is not None for p in r.problems)})
        summary = f"{len(self.cases) - len(failed)} of {len(self.cases)} test cases pass"
        case = self.cases[first.draw.case]
        k, problem = next((k, p) for k, p in enumerate(first.problems) if p is not None)
        mine = f"your function {self.function}"
        if case.hidden:
            return f"{mine} fails hidden test case {first.draw.case + 1}; {summary}"
        where = f"test case {self._case_name(first.draw.case)}"
        if case.draws > 1:
            where += f", draw {first.draw.index + 1} of {case.draws}"
        shapes = ", ".join(f"{n} {_shape_text(v)}" for n, v in first.draw.args.items())
        subject = (
            "it"
            if first.raised or problem.startswith(("raised", "returned", "ran", "changed"))
            else self.outputs[k].name
        )
        crash = self._crash_too(first, results)
        return f"{mine} fails {where} (inputs {shapes}): {subject} {problem}{crash}; {summary}"

    def _crash_too(self, first: CallResult, results: list[CallResult]) -> str:
        """When the first failure is a wrong value, the first crash elsewhere is named too."""
        crash = next((r for r in results if r.raised), None)
        if first.raised or crash is None:
            return ""
        if self.cases[crash.draw.case].hidden:
            return f"; it also crashed on hidden test case {crash.draw.case + 1}"
        shapes = ", ".join(f"{n} {_shape_text(v)}" for n, v in crash.draw.args.items())
        crashes = sum(1 for r in results if r.raised)
        return (f"; it also {crash.problems[0]} on test case {self._case_name(crash.draw.case)} "
                f"(inputs {shapes}), {crashes} of {len(results)} calls crashed")

    def _recognise_mistake(
        self, results: list[CallResult], outputs: dict[str, np.ndarray]
    ) -> Alternative | None:
        if any(
            r.raised or any(p is not None and p.startswith("returned") for p in r.problems)
            for r in results
        ):
            return None
        for alt in self.known_mistakes:
            if all(self._matches(i, r.draw, alt, outputs) for i, r in enumerate(results)):
                return alt
        return None

    def _matches(
        self, index: int, draw: Draw, alt: Alternative, outputs: dict[str, np.ndarray]
    ) -> bool:
        variant = self.expected(draw, alt.params)
        return all(
            _compare(outputs.get(f"{index}.{k}"), v, self.tolerance) is None
            for k, v in enumerate(variant)
        )

    # -- rubric checks and instructors' view ---------------------------------------------------

    def reference_params_for(self, ctx: GradingContext) -> dict[str, Any]:
        return dict(self.reference.params)

    def reference_answer(self, ctx: GradingContext) -> Any:
        draw = (
            next(d for d in self.draws(ctx.student) if not self.cases[d.case].hidden)
            if any(not c.hidden for c in self.cases)
            else None
        )
        if draw is None:
            return {"reference": self.reference.function}
        values = self.expected(draw)
        return {
            "reference": self.reference.function,
            "example": {
                "inputs": {n: np.asarray(v).tolist() for n, v in draw.args.items()},
                "outputs": {o.name: v.tolist() for o, v in zip(self.outputs, values, strict=True)},
            },
        }

    def rubric_problems(self, compute: bool) -> list[str]:
        from reference import get_reference

        names = [self.reference.function] + (
            [self.gradient_check.loss] if self.gradient_check else []
        )
        for name in names:
            try:
                get_reference(name)
            except KeyError as err:
                return [f"field reference: {err.args[0]}"]
        draw = self.draws("")[0]
        problems = []
        for label, overrides in [
            ("reference", {}),
            *((f"known_mistakes.{a.name}", a.params or {}) for a in self.known_mistakes),
        ]:
            try:
                ref = get_reference(self.reference.function)
                ref.validate({**self.reference.params, **overrides, **draw.args})
                if compute:
                    problems += self._check_computed(label, overrides)
            except Exception as err:  # a reference that cannot compute is a rubric error
                problems.append(f"field {label}: {type(err).__name__}: {err}")
        return problems

    def _check_computed(self, label: str, overrides: dict[str, Any]) -> list[str]:
        problems = []
        for c in range(len(self.cases)):
            draw = next(d for d in self.draws("") if d.case == c)
            values = self.expected(draw, overrides)
            if len(values) != len(self.outputs):
                return [
                    f"field {label}: the reference returns {len(values)} values; "
                    f"outputs lists {len(self.outputs)}"
                ]
            if label != "reference":
                continue
            for out, value in zip(self.outputs, values, strict=True):
                if out.gradient_of and (
                    why := self._finite_difference(draw, out.gradient_of, value)
                ):
                    problems.append(
                        f"field gradient_check: the reference's {out.name} {why} "
                        f"(test case {c + 1})"
                    )
        return problems


# --- helpers --------------------------------------------------------------------------------


@dataclass
class Draw:
    case: int
    index: int
    args: dict[str, Value]
    fd_seed: int


@dataclass
class CallResult:
    draw: Draw
    problems: list[str | None] = field(default_factory=list)
    raised: bool = False


def _size(dim: Dim, rng: np.random.Generator) -> int:
    if isinstance(dim, int):
        return dim
    low, high = dim
    return int(rng.integers(low, high + 1))


def _draw_input(spec: InputSpec, dims: dict[str, int], rng: np.random.Generator) -> Value:
    shape = tuple(dims[d] if isinstance(d, str) else d for d in spec.shape)
    if spec.distribution == "one_hot":
        labels = rng.integers(shape[-1], size=shape[:-1])
        return np.eye(shape[-1])[labels]
    if spec.distribution == "uniform":
        value = rng.uniform(spec.low, spec.high, size=shape)
    else:
        value = rng.normal(spec.mean, spec.std, size=shape)
    return float(value) if not shape else np.asarray(value)


def _locate_file(raw: Any, root: Path | None) -> str | Verdict:
    """The answer's path, relative to the submission, or the verdict refusing it."""
    hint = "write the path of your Python file relative to your submission, e.g. gradient.py"
    if not isinstance(raw, str):
        return Verdict(
            Status.INVALID, feedback=f"your answer is not a file path; {hint}", answer=shorten(raw)
        )
    text = raw.strip()
    normal = posixpath.normpath(text.replace("\\", "/"))
    if posixpath.isabs(normal) or normal == ".." or normal.startswith("../"):
        return Verdict(
            Status.ERROR,
            feedback=f"your answer {text!r} points outside your submission; the file was refused",
            answer=shorten(raw),
        )
    if root is None:
        return Verdict(
            Status.INVALID,
            feedback="this question needs your Python file: submit a "
            "folder or a zip holding it and your answers file",
            answer=shorten(raw),
        )
    if not normal.endswith(".py"):
        return Verdict(
            Status.INVALID,
            feedback=f"your answer {text!r} is not a .py file; {hint}",
            answer=shorten(raw),
        )
    resolved = (root / normal).resolve()
    if root.resolve() not in resolved.parents:
        return Verdict(
            Status.ERROR,
            feedback=f"your answer {text!r} links outside your submission; the file was refused",
            answer=shorten(raw),
        )
    if not resolved.is_file() or (root / normal).is_symlink():
        return Verdict(
            Status.INVALID,
            feedback=f"your answer names {text!r}, which is not a file in your submission",
            answer=shorten(raw),
        )
    return normal


def _process_failure(
    run: SandboxResult, draws: list[Draw], q: CodeQuestion, file: str
) -> Verdict | None:
    """The worker did not finish: time-out, crash, memory, or the import failed."""
    if run.status == "ok" and run.result is not None:
        problem = run.result.get("import")
        calls = run.result.get("calls")
        if problem == "ok" and isinstance(calls, list) and len(calls) == len(draws):
            return None
        if problem != "ok":
            problem = shorten(str(problem), 300)
            return Verdict(Status.ERROR, feedback=f"your file {file} {problem}")
    where = _running_when(run, draws, q)
    reason = run.reason or "stopped without a result"
    if run.status == "refused":
        return Verdict(Status.ERROR, feedback=f"your code could not be run: {reason}")
    if run.status == "ok":
        reason = "exited before finishing (sys.exit or os._exit?)"
    elif run.status == "crash" and run.returncode is not None and run.returncode > 0:
        # not the last line of stderr: the student writes it, and it could show hidden inputs
        reason = f"exited with code {run.returncode} (os._exit?)"
    return Verdict(
        Status.ERROR,
        feedback=f"your code {reason}{where}",
        details={"returncode": run.returncode},
    )


def _running_when(run: SandboxResult, draws: list[Draw], q: CodeQuestion) -> str:
    lines = run.files.get(PROGRESS_FILE, b"").decode(errors="replace").split()
    if not lines:
        return ""
    if lines[-1] == IMPORTING:
        return " while your file was imported"
    try:
        draw = draws[int(lines[-1])]
    except (ValueError, IndexError):
        return ""
    case = q.cases[draw.case]
    return f" during {'hidden ' if case.hidden else ''}test case {draw.case + 1}"


def _load_outputs(data: bytes | None) -> dict[str, np.ndarray]:
    """The worker's arrays; an archive that would unpack to more than the box could have
    written (a zip bomb planted to exhaust the grader's memory) is ignored."""
    if not data:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
        if len(members) > MAX_OUTPUT_ARRAYS or sum(m.file_size for m in members) > MAX_OUTPUT_BYTES:
            return {}
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        return {}


def _compare(got: np.ndarray | None, expected: np.ndarray, tol: ArrayTolerance) -> str | None:
    """None when equal within tolerance, else what differs (for feedback)."""
    if got is None:
        return "is missing"
    if got.shape != expected.shape:
        return f"has shape {_shape_of(got.shape)}; expected {_shape_of(expected.shape)}"
    if not np.all(np.isfinite(got)):
        return "contains NaN or infinity"
    diff = np.abs(got - expected)
    if np.all(diff <= tol.atol + tol.rtol * np.abs(expected)):
        return None
    relative = diff / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    if _float32_result(got, expected, relative):
        return (
            f"has only float32 precision: it differs from the expected values by up to "
            f"{relative.max():.2g} (relative), float32's rounding, while the tolerance is "
            f"{tol.atol:.0e}; compute in float64 (numpy's default): do not cast to np.float32 "
            "or use float32 tensors"
        )
    return (
        f"is wrong: expected {_array_text(expected)}, got {_array_text(got)}; max absolute "
        f"difference {diff.max():.3g}, max relative difference {relative.max():.3g}"
    )


FLOAT32_RELATIVE = 1e-5  # a float32 computation's error stays below this on the grader's inputs


def _float32_result(got: np.ndarray, expected: np.ndarray, relative: np.ndarray) -> bool:
    """Every value is exactly a float32 (the worker widened it to float64 without loss), the
    expected values are not, and the two agree to float32's precision: a dtype, not a formula."""
    as_float32 = got.astype(np.float32).astype(np.float64)
    exact32 = bool(np.all(as_float32 == got))
    expected32 = bool(np.all(expected.astype(np.float32).astype(np.float64) == expected))
    return exact32 and not expected32 and float(relative.max()) <= FLOAT32_RELATIVE


def _array_text(value: np.ndarray) -> str:
    text = np.array2string(value, precision=4, threshold=12, edgeitems=2, max_line_width=10_000)
    return " ".join(text.split())


def _shape_of(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _shape_text(value: Value) -> str:
    return "scalar" if isinstance(value, float) else _shape_of(np.shape(value))

"""`grader doctor`: which sandbox layers this machine offers, and how to get the strongest."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import click


def diagnose(run_probe: bool = True) -> dict[str, Any]:
    from grader.sandbox.layers import LAYER_ENV, choose_layer, detect_layers, running_as_root

    statuses = detect_layers()
    report: dict[str, Any] = {
        "layers": [
            {"layer": s.layer, "available": s.available, "detail": s.detail, "advice": s.advice}
            for s in statuses
        ],
        "root": running_as_root(),
        "requested": os.environ.get(LAYER_ENV, "auto") or "auto",
    }
    try:
        report["default"] = choose_layer()
    except (LookupError, ValueError) as err:
        report["default"] = None
        report["problem"] = str(err)
    if run_probe and report["default"]:
        report["probe"] = _probe_run()
    return report


def _probe_run() -> dict[str, Any]:
    """One boxed call of the real worker path, timed."""
    from grader.sandbox import run_python

    started = time.monotonic()
    result = run_python("grader.sandbox.boot", [], student_dir=None)
    return {
        "status": result.status,
        "layer": result.layer,
        "uid": result.uid,
        "seconds": round(time.monotonic() - started, 3),
        "reason": result.reason,
    }


def render(report: dict[str, Any]) -> str:
    lines = ["Sandbox layers on this machine (strongest first):"]
    for entry in report["layers"]:
        mark = "yes" if entry["available"] else "no "
        lines.append(f"  {entry['layer']:<8} {mark}  {entry['detail']}")
    if report["root"]:
        lines.append(
            "Running as root: student code runs as an unprivileged uid of its own per run."
        )
    else:
        lines.append(
            "Not root: student code runs as your own user; bwrap and namespace hide your files "
            "from it, the process layer does not (it can read and write what you can)."
        )
    lines.append(
        f"Layer used (GRADER_SANDBOX_LAYER={report['requested']}): {report['default'] or 'none'}"
    )
    if report.get("problem"):
        lines.append(f"Problem: {report['problem']}")
    probe = report.get("probe")
    if probe:
        lines.append(
            f"Test run: {probe['status']} under {probe['layer']} in {probe['seconds']:.3f} s"
            + (f" ({probe['reason']})" if probe["reason"] else "")
        )
    strongest = report["layers"][0]
    if not strongest["available"] and not report.get("problem"):
        lines += ["", "To enable bubblewrap, the strongest layer:", f"  {strongest['advice']}"]
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def doctor(as_json: bool) -> None:
    """Which sandbox layers this machine offers for student code; how to enable the strongest."""
    report = diagnose()
    click.echo(json.dumps(report, indent=2) if as_json else render(report))


# --- the `--sandbox` option of the grading commands -------------------------------------------

def sandbox_option(command: Any) -> Any:
    from grader.sandbox.layers import CHOICES, LAYER_ENV

    return click.option(
        "--sandbox", "sandbox", type=click.Choice(CHOICES), default=None,
        help=f"the isolation layer for student code and models [default: {LAYER_ENV}, else auto: "
             "bwrap, else namespace, else refuse; `check`: any, which falls back to process]",
    )(command)


def runs_student_code(loaded: Any) -> bool:
    return any(getattr(q, "kind", None) in ("code", "model") for q in loaded.rubric.questions)


def use_sandbox(choice: str | None, loaded: Any, *, self_check: bool = False) -> None:
    """Settle the layer once for the whole command (batch workers inherit it through the
    environment): a usage error (exit 2) saying how to get a strong layer, or how to accept a
    weak one explicitly, when none that hides the filesystem works."""
    from grader.sandbox.layers import LAYER_ENV, choose_layer

    wanted = choice or os.environ.get(LAYER_ENV) or ("any" if self_check else "auto")
    if not runs_student_code(loaded):
        if choice:
            os.environ[LAYER_ENV] = choice
        return
    try:
        os.environ[LAYER_ENV] = choose_layer(wanted)
    except (LookupError, ValueError) as err:
        raise click.UsageError(str(err)) from None

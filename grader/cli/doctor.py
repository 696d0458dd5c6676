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

"""The worker that runs inside the box: call a student's function on the grader's inputs.

Reads `call.json` (which file, which function, argument names, how many calls, how many
outputs) and `inputs.npz` (arrays `<call>.<arg>`, loaded without pickle) from its folder; imports
the student's file; calls the function once per call; writes `outputs.npz` (arrays
`<call>.<output>`, float64) and `result.json` (the import outcome and one entry per call).
Before each call it appends the call's index to `progress.txt`, so that the parent can say
which test case was running when the process died.

Judging happens in the parent: this module only reports what the function returned or raised.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
from types import ModuleType
from typing import Any

import numpy as np

CALL_FILE = "call.json"
INPUTS_FILE = "inputs.npz"
OUTPUTS_FILE = "outputs.npz"
RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.txt"
IMPORTING = "import"
_MESSAGE_CHARS = 240

# kept before the student's module can replace them
_savez = np.savez
_dumps = json.dumps
_os_write = os.write
_os_open = os.open


def main() -> None:
    with open(CALL_FILE, encoding="utf-8") as handle:
        call = json.load(handle)
    progress = _os_open(PROGRESS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    _os_write(progress, f"{IMPORTING}\n".encode())
    path = os.path.abspath(str(call["file"]))
    module, problem = _import_student(path)
    report: dict[str, Any] = {"import": problem or "ok", "calls": []}
    outputs: dict[str, np.ndarray] = {}
    if module is not None:
        function = getattr(module, str(call["function"]), None)
        if not callable(function):
            report["import"] = f"has no function {call['function']}"
        else:
            with np.load(INPUTS_FILE, allow_pickle=False) as inputs:
                for index in range(int(call["calls"])):
                    _os_write(progress, f"{index}\n".encode())
                    entry, produced = _one_call(function, inputs, index, call, path)
                    report["calls"].append(entry)
                    outputs.update(produced)
    with open(OUTPUTS_FILE, "wb") as handle:
        _savez(handle, **outputs)  # type: ignore[arg-type]  # numpy's stub types **kwds oddly
    with open(RESULT_FILE, "w", encoding="utf-8") as handle:
        handle.write(_dumps(report))


def _import_student(path: str) -> tuple[ModuleType | None, str | None]:
    folder = os.path.dirname(path)
    sys.path.insert(0, folder)  # so that the student's file can import its own helpers
    try:
        spec = importlib.util.spec_from_file_location("student_code", path)
        if spec is None or spec.loader is None:
            return None, "cannot be imported as Python"
        module = importlib.util.module_from_spec(spec)
        sys.modules["student_code"] = module
        spec.loader.exec_module(module)
    except BaseException as err:  # anything the student's file does at import is its outcome
        return None, "failed when imported: " + describe(err, path)
    return module, None


def _one_call(function: Any, inputs: Any, index: int, call: dict[str, Any],
              path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    args = [_argument(inputs[f"{index}.{name}"]) for name in call["args"]]
    originals = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    started = time.perf_counter()
    try:
        returned = function(*args)
    except BaseException as err:
        status = "memory" if isinstance(err, MemoryError) else "raised"
        return {"status": status, "message": describe(err, path),
                "seconds": time.perf_counter() - started}, {}
    seconds = time.perf_counter() - started
    mutated = [name for name, now, before in zip(call["args"], args, originals, strict=True)
               if isinstance(before, np.ndarray) and not np.array_equal(now, before, equal_nan=True)]
    if mutated:  # the caller's arrays were changed in place: told, whatever was returned
        return {"status": "ok", "seconds": seconds, "mutated": mutated}, {}
    try:
        values = _split(returned, int(call["outputs"]))
        arrays = {f"{index}.{k}": _as_numbers(v, k) for k, v in enumerate(values)}
    except BaseException as err:
        return {"status": "bad_return", "message": _message(err), "seconds": seconds}, {}
    return {"status": "ok", "seconds": seconds}, arrays


def _argument(array: np.ndarray) -> Any:
    return array.item() if array.ndim == 0 else array


def _split(returned: Any, count: int) -> list[Any]:
    if count == 1:
        return [returned]
    if not isinstance(returned, tuple | list) or len(returned) != count:
        what = f"{len(returned)} values" if isinstance(returned, tuple | list) else \
            f"a single {type(returned).__name__}"
        raise ValueError(f"returned {what}; expected a tuple of {count} values")
    return list(returned)


def _as_numbers(value: Any, position: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"value {position + 1} is {type(value).__name__} of dtype {array.dtype}, "
                         "not real numbers")
    return np.array(array, dtype=np.float64)


def describe(err: BaseException, path: str) -> str:
    """`ValueError: ... (line 12)`, naming the last line of the student's file involved."""
    text = f"called sys.exit({err.code!r})" if isinstance(err, SystemExit) else _message(err)
    lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if f.filename == path]
    if lines:
        text += f" (line {lines[-1]})"
    return text


def _message(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip().rstrip(":")
    text = " ".join(text.split()).replace(os.getcwd() + os.sep, "")
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


if __name__ == "__main__":
    main()

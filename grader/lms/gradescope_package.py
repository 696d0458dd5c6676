"""`grader gradescope-package`: the autograder archive Gradescope asks for.

Gradescope unzips it into `/autograder/source`, runs `setup.sh` once to build the image, then
`run_autograder` for every submission, which must leave `/autograder/results/results.json`.
The archive carries the grader's own source (`grader_src/`), so that the image grades with
exactly this version, and the rubric when it is not a built-in.
"""

from __future__ import annotations

import importlib.metadata
import io
import re
import shlex
import stat
import tomllib
import zipfile
from pathlib import Path

import yaml

import grader
from grader import __version__
from grader.core.rubric import RUBRIC_SUFFIXES, LoadedRubric, builtin_names, rubrics_dir

DISTRIBUTION = "nn-grader"
SOURCE_PACKAGES = ("grader", "reference")
_FALLBACK_DEPENDENCIES = ["numpy>=1.26", "sympy>=1.12", "pydantic>=2.6,<3", "click>=8.1", "PyYAML>=6.0",
                          "safetensors>=0.4", "scikit-learn>=1.3", "torch>=2.2"]
TORCH_PIN = "torch==2.13.0"
# PyTorch's CPU wheels: PyPI's torch wheel for Linux is the CUDA build, gigabytes a grader never uses
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MAX_EXTENDS = 8
# a fixed timestamp: the same source gives the same archive, byte for byte
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
AUTOGRADER="${{AUTOGRADER_ROOT:-/autograder}}"

pick_python() {{
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}}

if ! PYTHON="$(pick_python)"; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
  PYTHON=python3.11
fi
# The strongest sandbox layer for student code (bubblewrap); without it the grader falls back to
# namespaces or a plain limited process, and each report says which layer it used.
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) ||
    echo "setup.sh: bubblewrap is not available; student code runs under a fallback layer"
fi
# Debian and Ubuntu images ship Python without the venv module (python3.X-venv): install it,
# else make the environment with virtualenv from pip.
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$VERSION-venv" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv) ||
    echo "setup.sh: python$VERSION-venv is not available; trying virtualenv"
fi
if "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  "$PYTHON" -m venv "$AUTOGRADER/venv"
else
  "$PYTHON" -m pip install -q --user virtualenv || "$PYTHON" -m pip install -q --break-system-packages virtualenv
  "$PYTHON" -m virtualenv -q "$AUTOGRADER/venv"
fi
VENV_PYTHON="$AUTOGRADER/venv/bin/python"
"$VENV_PYTHON" -m pip install -q --upgrade pip
{torch_line}
"$VENV_PYTHON" -m pip install -q {dependencies}
"$VENV_PYTHON" -m pip install -q --no-deps "$SOURCE/grader_src"
"$VENV_PYTHON" -m grader --version
# Where neither bubblewrap nor namespaces work (many container runtimes), student code runs on the
# process layer as an unprivileged uid of its own: make what holds answers unreadable to it (the
# rubric, the vendored source, the installed reference package and built-in rubrics). The grader
# itself runs as root and reads them; the grader package the box imports stays readable.
SITE="$("$VENV_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
chmod -R go-rwx "$SOURCE" "$SITE/reference" "$SITE/grader/_rubrics" 2>/dev/null || true
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade $AUTOGRADER/submission into results.json.
set -u
AUTOGRADER="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$AUTOGRADER/source"
PYTHON="${{GRADER_PYTHON:-$AUTOGRADER/venv/bin/python}}"
RESULTS="$AUTOGRADER/results/results.json"
mkdir -p "$AUTOGRADER/results"
cd "$SOURCE"
# `--sandbox any`: bubblewrap or namespaces where the container allows them, else the process
# layer (setup.sh made the answers unreadable to it); results.json names the layer used.
if ! "$PYTHON" -m grader grade --sandbox any \\
    "$AUTOGRADER/submission" -a {assignment} --format gradescope -o "$RESULTS"; then
  cat > "$RESULTS" <<'JSON'
{{"score": 0, "visibility": "visible", "stdout_visibility": "visible", "tests": [],
 "output": "The autograder could not run on this submission: please tell your instructor."}}
JSON
fi
"""


def dependencies() -> list[str]:
    """The grader's runtime requirements, from the installed metadata or the checkout's pyproject."""
    try:
        requires = importlib.metadata.requires(DISTRIBUTION) or []
        found = [r for r in requires if "extra ==" not in r]
        if found:
            return found
    except importlib.metadata.PackageNotFoundError:
        pass
    pyproject = Path(grader.__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        listed = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("dependencies")
        if isinstance(listed, list) and listed:
            return [str(d) for d in listed]
    return list(_FALLBACK_DEPENDENCIES)


def _is_torch(requirement: str) -> bool:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower() == "torch"


def needs_torch(loaded: LoadedRubric) -> bool:
    return any(getattr(type(q), "needs_torch", False) for q in loaded.rubric.questions)


def setup_script(loaded: LoadedRubric) -> str:
    deps = [d for d in dependencies() if not _is_torch(d)]
    pin = shlex.quote(TORCH_PIN)
    torch_line = (f'"$VENV_PYTHON" -m pip install -q --index-url {TORCH_CPU_INDEX} {pin} ||\n'
                  f'  "$VENV_PYTHON" -m pip install -q {pin}  # the CPU index unreachable: PyPI\'s build'
                  if needs_torch(loaded) else "# this rubric has no model question: torch is not installed")
    return SETUP_SH.format(torch_line=torch_line, dependencies=" ".join(shlex.quote(d) for d in deps))


def run_script(assignment_arg: str) -> str:
    return RUN_AUTOGRADER.format(assignment=shlex.quote(assignment_arg))


def _pyproject() -> str:
    return (
        '[build-system]\nrequires = ["hatchling>=1.21"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{DISTRIBUTION}"\nversion = "{__version__}"\nrequires-python = ">=3.11"\n'
        "dependencies = [\n" + "".join(f"    {_toml_string(d)},\n" for d in dependencies()) + "]\n\n"
        '[project.scripts]\ngrader = "grader.cli:main"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["grader", "reference"]\n'
    )


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _source_files() -> list[tuple[str, Path]]:
    """(name in the archive, file) for the grader's packages and the built-in rubrics."""
    import reference

    files = []
    for package in (Path(grader.__file__).resolve().parent, Path(reference.__file__).resolve().parent):
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                if package.name == "grader" and "_rubrics" in path.relative_to(package).parts:
                    continue
                files.append((f"grader_src/{package.name}/{path.relative_to(package).as_posix()}", path))
    for rubric in sorted(rubrics_dir().iterdir()):
        if rubric.is_file() and rubric.suffix in RUBRIC_SUFFIXES:
            files.append((f"grader_src/grader/_rubrics/{rubric.name}", rubric))
    return files


def rubric_files(path: Path, depth: int = 0) -> list[Path]:
    """The rubric, the course files beside it (grader.core.course) and the files it `extends` that sit
    in its folder (built-ins travel anyway)."""
    from grader.core.course import course_files

    found = [path, *course_files(path)]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return found
    base = data.get("extends") if isinstance(data, dict) else None
    if isinstance(base, str) and depth < MAX_EXTENDS and base not in builtin_names():
        candidate = (path.parent / base).resolve()
        if candidate.is_file() and path.parent.resolve() in candidate.parents:
            found += rubric_files(candidate, depth + 1)
    return found


def build_package(assignment: str, loaded: LoadedRubric, output: Path) -> list[str]:
    """Write the archive; return the names it holds."""
    files: dict[str, bytes] = {name: path.read_bytes() for name, path in _source_files()}
    files["grader_src/pyproject.toml"] = _pyproject().encode()
    files["grader_src/README.md"] = f"nn-grader {__version__}, vendored for a Gradescope autograder.\n".encode()
    if assignment in builtin_names():
        assignment_arg = assignment
    else:
        home = loaded.path.resolve()
        for path in rubric_files(home):
            files[f"rubric/{path.relative_to(home.parent).as_posix()}"] = path.read_bytes()
        assignment_arg = f"rubric/{loaded.path.name}"
    files["setup.sh"] = setup_script(loaded).encode()
    files["run_autograder"] = run_script(assignment_arg).encode()
    output.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    output.write_bytes(buffer.getvalue())
    return sorted(files)

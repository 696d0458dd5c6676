"""Running untrusted code (student functions, student models) in a boxed child process.

The API below is what checkers call; the layers behind it (resource limits, an unprivileged
user, bubblewrap, namespaces) are this package's business: see `docs/sandbox.md`.

The names are imported lazily: the bootstrap and the workers that run *inside* the box import
modules of this package and must not pay for pydantic there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.sandbox.api import Limits, SandboxResult, SandboxUnavailable, run_python

__all__ = ["Limits", "SandboxResult", "SandboxUnavailable", "run_python"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from grader.sandbox import api

        return getattr(api, name)
    raise AttributeError(name)

"""Running untrusted code (student functions, student models) in a boxed child process.

The API below is what checkers call; the layers behind it (resource limits, an unprivileged
user, bubblewrap, namespaces) are this package's business.
"""

from grader.sandbox.api import Limits, SandboxResult, run_python

__all__ = ["Limits", "SandboxResult", "run_python"]

"""The `grader` command line (CONTRACT.md): `main` holds the group and the commands on one
submission; each other command group has its module here, imported only when named."""

from grader.cli.common import ExitCode
from grader.cli.main import cli, main

__all__ = ["ExitCode", "cli", "main"]

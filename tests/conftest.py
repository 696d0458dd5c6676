from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture(autouse=True, scope="session")
def _private_reference_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read or write the user's reference cache."""
    import os

    os.environ["GRADER_CACHE_DIR"] = str(tmp_path_factory.mktemp("reference-cache"))


def _hypothesis_profile() -> None:
    """Under CI every property test draws the same examples (no flaky red build); locally they
    explore new ones, which is how the exact LP's oracle bug was found."""
    import os

    from hypothesis import settings

    settings.register_profile("ci-derandomized", derandomize=True, database=None)
    if os.environ.get("CI"):
        settings.load_profile("ci-derandomized")


_hypothesis_profile()


def pytest_report_header() -> list[str]:
    """Say up front what this machine lacks and which tests therefore skip (`-ra` lists each
    skip with its reason again at the end)."""
    import shutil

    lines = []
    if shutil.which("bwrap") is None:
        lines.append("no bubblewrap (apt-get install bubblewrap): the bwrap-layer sandbox tests skip")
    browsers = ("chromium", "chromium-browser", "google-chrome", "chromium-headless-shell")
    if not any(shutil.which(name) for name in browsers):
        lines.append("no headless Chromium (apt-get install chromium): the summary-page browser test skips")
    return lines or ["bubblewrap and Chromium found: no test skips for want of them"]

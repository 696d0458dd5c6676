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

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
BASE_SITE = DATA / "base"


@pytest.fixture
def base_site(tmp_path: Path) -> Path:
    """A copy of the tiny valid site in tests/data/base, safe to edit."""
    target = tmp_path / "site"
    shutil.copytree(BASE_SITE, target)
    return target


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Path:
    """A small demo site written by the generator (60 agents, 4 weeks), shared read-only."""
    from staffing.site.generate import write_demo_site

    return write_demo_site(tmp_path_factory.mktemp("demo") / "site", agents=60, weeks=4, seed=3)


# Property tests are derandomised so a run is reproducible (same examples every time);
# set HYPOTHESIS_PROFILE=explore locally to search with fresh random examples.
import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

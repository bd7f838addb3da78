import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

FASHION_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


@pytest.fixture
def rng():
    return __import__("numpy").random.default_rng(1234)

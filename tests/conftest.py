import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

FASHION_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


@pytest.fixture
def rng():
    return __import__("numpy").random.default_rng(1234)


@pytest.fixture
def hide_package(monkeypatch):
    """`hide_package("matplotlib")`: importing that package (or a submodule) raises ImportError,
    as if it were not installed, for the rest of the test."""
    import builtins

    real_import = builtins.__import__

    def hide(prefix):
        def guarded_import(name, *args, **kwargs):
            if name.startswith(prefix):
                raise ImportError(f"No module named {name!r}")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", guarded_import)

    return hide


@pytest.fixture
def blas_threads():
    """Set NumPy's BLAS thread count inside a test (call it with the count); the old one comes back
    afterwards."""
    from barenet.fast import blas

    _, setter, getter, _ = blas.load()
    before = getter()
    yield setter
    setter(before)

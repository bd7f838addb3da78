"""barenet.allocator: glibc's malloc keeps freed arrays for the next step during fit (fewer page
faults), is left alone where the user tunes it or turns it off, and fit holds and releases it."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import barenet as bn
from barenet import allocator

_SRC = os.path.join(os.path.dirname(__file__), "..", "src")


def _run(code: str, **env) -> str:
    environment = {key: value for key, value in os.environ.items()
                   if key not in allocator._USER_TUNING and key != allocator.ENVIRONMENT_VARIABLE}
    environment.update(env, PYTHONPATH=_SRC)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


_FAULTS = """
    import resource
    import numpy as np
    from barenet import allocator
    held = allocator.hold() if HOLD else False

    def step():  # forty arrays of 1 MB, freed together, as a step's outputs and gradients are
        arrays = [np.ones(250_000, np.float32) for _ in range(40)]
        del arrays

    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    print(held, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_held_thresholds_reuse_freed_arrays_instead_of_fresh_pages():
    held, faults = _run(_FAULTS.replace("HOLD", "True")).split()
    if held != "True":
        pytest.skip("not glibc: the allocator is left alone")
    _, faults_before = _run(_FAULTS.replace("HOLD", "False")).split()
    assert int(faults) < 1_000 < 50_000 < int(faults_before), (faults, faults_before)  # 10 x 10,000 pages


@pytest.mark.parametrize("env", [{"BARENET_MALLOC": "0"}, {"MALLOC_TRIM_THRESHOLD_": "1000000"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000000"}])
def test_the_users_own_tuning_or_the_switch_leaves_malloc_alone(env):
    assert _run("from barenet import allocator; print(allocator.hold())", **env) == "False"


def test_fit_holds_the_allocator_once_and_releases_it_at_the_end(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "hold", lambda: calls.append("hold") or True)
    monkeypatch.setattr(allocator, "release", lambda: calls.append("release"))
    model = bn.Sequential([bn.Dense(3, "softmax", input_dim=4)], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20) % 3
    model.fit(x, y, epochs=2, batch_size=5, verbose=0, validation_split=0.2)  # evaluate runs inside fit
    assert calls == ["hold", "release"]


def test_thresholds_are_set_once_and_only_a_long_loop_trims(monkeypatch):
    """A short `predict` in a loop pays neither the settings again nor a trim; a loop of
    `TRIM_AFTER` seconds or more gives the free heap back when it ends."""
    calls = []
    functions = (lambda *args: calls.append(("mallopt", *args)) or 1, lambda pad: calls.append(("trim", pad)) or 1)
    monkeypatch.setattr(allocator, "_state", {"libc": functions})
    assert allocator.hold() and allocator.hold()
    assert [call[0] for call in calls] == ["mallopt", "mallopt"]  # once for the process
    allocator.release()
    assert ("trim", 0) not in calls  # a short loop
    allocator.hold()
    allocator._state["since"] -= allocator.TRIM_AFTER
    allocator.release()
    assert calls[-1] == ("trim", 0)
    allocator.release()  # no hold since: nothing more
    assert calls.count(("trim", 0)) == 1

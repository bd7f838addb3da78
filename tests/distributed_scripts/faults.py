"""Faults under `barenet.distributed` (run by tests/test_distributed.py under `mpiexec -n 2`).

Usage: python faults.py MODE[,MODE...] OUT
MODE: raise-in-step | raise-in-callback | kill | interrupt | mismatch | unseeded | resume
"""

import os
import signal
import sys

import numpy as np

import barenet as bn

modes, out = sys.argv[1].split(","), sys.argv[2]
strategy = bn.distributed.initialize(verbose=False)
rng = np.random.default_rng(0)
x, y = rng.normal(size=(256, 4)), rng.normal(size=(256, 1))


class Fragile(bn.layers.Layer):
    """Raises on process 1 at its fourth training call (a stand-in for bad data or an out-of-memory error)."""

    calls, mode = 0, None

    def call(self, inputs, training=False):
        if training:
            Fragile.calls += 1
            if Fragile.mode == "raise-in-step" and strategy.rank == 1 and Fragile.calls == 4:
                raise ValueError("bad batch on purpose")
        return inputs


class OnBatch(bn.callbacks.Callback):
    mode = None

    def on_batch_end(self, batch, logs=None):
        if strategy.rank == 1 and batch == 3:
            mode = self.mode
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "raise-in-callback":
                raise RuntimeError("callback failed on purpose")
            if mode == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)


def train(mode: str) -> int:
    """One fit in `mode`; a refused or failed fit is reported and the processes go on together."""
    units = 5 if mode == "mismatch" and strategy.rank == 1 else 4
    seed = None if mode == "unseeded" else 0  # unseeded: each process draws different weights and splits
    model = bn.Sequential([bn.Dense(units, "tanh", input_dim=4), Fragile(), bn.Dense(1)], seed=seed)
    model.compile("adam" if mode == "resume" else "sgd", "mse")
    if mode == "resume" and strategy.rank == 0:  # rank 0 alone holds weights and optimizer slots from before
        model.train_on_batch(x[:8], y[:8])
    try:
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[OnBatch()],
                            validation_split=0.25 if mode == "unseeded" else 0.0)
    except (bn.distributed.DistributedStepError, ValueError) as error:
        print(f"rank {strategy.rank}: {type(error).__name__}: {error}", flush=True)
        return 3
    with open(f"{out}.{mode}.{strategy.rank}", "w") as f:
        f.write(f"{model.optimizer.iterations} {len(history.epoch)} {history.stop_reason is not None} "
                f"{sum(float(w.sum()) for w in model.get_weights())!r} {history.history.get('loss', [None])[-1]!r}")
    return 0


codes = []
for mode in modes:  # several fits in one job: errors that every process raised leave them in step
    Fragile.calls, Fragile.mode, OnBatch.mode = 0, mode, mode
    codes.append(train(mode))
sys.exit(max(codes))

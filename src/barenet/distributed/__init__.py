"""Data-parallel training over MPI: one line in the script, `mpiexec -n N` to launch it.

    import barenet as bn
    strategy = bn.distributed.initialize()     # every later fit() trains across the processes
    model.fit(x, y, batch_size=256)            # 256 = the GLOBAL batch, shared by the processes
    if strategy.is_chief:
        model.save("model.barenet")

    $ mpiexec -n 4 python train.py

Every process runs the same script on the same data: rank 0's weights are broadcast, each
process takes its share of every global batch, gradients are averaged with one allreduce per
step, and the logs (hence History and callbacks' decisions) are the same on every process.
With `batch_size` the global batch, N processes compute what one process computes (up to
rounding). Without mpi4py installed, or started without `mpiexec` (one process), `initialize()`
prints one line and training is ordinary. Install: `pip install "barenet[distributed]"`
(mpi4py and MPICH from PyPI) or mpi4py built against a cluster's MPI. See `strategy.py`.
"""

from __future__ import annotations

import sys

from .. import fast
from .comm import (
    Communicator,
    install_abort_on_uncaught_exception,
    launched_size,
    load_mpi,
)
from .step import DistributedStepError, local_rows
from .strategy import DataParallel

_CURRENT: DataParallel | None = None


def initialize(verbose: bool = True) -> DataParallel:
    """Join the processes `mpiexec` started and make `fit` train across them.

    Args:
        verbose: Print the one-line notice (which processes, or why training stays in one
            process) on rank 0. Defaults to True.

    Returns:
        The `DataParallel` strategy (`rank`, `size`, `is_chief`). With one process (no
        `mpiexec`, or `-n 1`) or without mpi4py it is a strategy of size 1 and `fit` is
        unchanged. An exception nobody catches on one process then aborts every process.
    """
    global _CURRENT
    if _CURRENT is not None:
        return _CURRENT
    launched = launched_size()
    mpi = load_mpi() if launched > 1 else None
    if mpi is None or mpi.COMM_WORLD.Get_size() == 1:
        if verbose:
            why = ("mpi4py is not installed (pip install \"barenet[distributed]\")" if launched > 1 and mpi is None
                   else "one process")
            print(f"barenet.distributed: {why}; training in this process alone.", file=sys.stderr, flush=True)
        _CURRENT = DataParallel(None)
        return _CURRENT
    communicator = Communicator(mpi)
    install_abort_on_uncaught_exception(communicator)
    _share_the_cores(mpi)
    _CURRENT = DataParallel(communicator)
    if verbose and _CURRENT.is_chief:
        print(f"barenet.distributed: data-parallel training on {communicator.size} processes "
              f"({mpi.Get_library_version().splitlines()[0].strip()}).", file=sys.stderr, flush=True)
    return _CURRENT


def _share_the_cores(mpi) -> None:
    """The processes on one machine share its cores: each one's compiled kernels (`barenet.fast`)
    default to its share, cores / processes there, instead of every core (which would run
    processes x cores threads). `set_num_threads` or `BARENET_NUM_THREADS` still decide."""
    try:
        node = mpi.COMM_WORLD.Split_type(mpi.COMM_TYPE_SHARED)
    except Exception:  # noqa: BLE001 - an MPI without MPI-3's shared-memory split: keep the default
        return
    try:
        fast.share_cores(node.Get_size())
    finally:
        node.Free()


def current() -> DataParallel | None:
    """The strategy `fit` uses: the one `initialize()` returned when it spans several processes, else None."""
    return _CURRENT if _CURRENT is not None and _CURRENT.size > 1 else None


def shutdown() -> None:
    """Forget the strategy: later `fit` calls train in each process alone (MPI stays initialized)."""
    global _CURRENT
    _CURRENT = None


__all__ = ["DataParallel", "DistributedStepError", "current", "initialize", "local_rows", "shutdown"]

"""The processes of one job and what they say to each other: a thin layer over mpi4py.

barenet speaks MPI (`mpi4py` with any MPI: MPICH from PyPI, or a cluster's own) and
never a protocol of its own. `launched_size()` reads the launcher's environment, so a
script run without `mpiexec` never initializes MPI at all.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np

# Seconds between an aborting process's message and the end of the job (`Communicator.abort`).
ABORT_GRACE = 0.5

# Variables the common launchers set in every process they start: MPICH/Hydra (PMI_SIZE),
# Open MPI (OMPI_COMM_WORLD_SIZE), Slurm's srun with PMI (PMI_SIZE too) and Intel MPI (PMI_SIZE).
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")


def launched_size() -> int:
    """How many processes the launcher started (1 when the script was not started by `mpiexec`)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def load_mpi():
    """mpi4py's `MPI` module (initializing MPI), or None when mpi4py is not installed."""
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI


class Communicator:
    """The collective operations data-parallel training needs, on `MPI.COMM_WORLD`.

    Buffers are NumPy arrays reduced in place (no pickling); `broadcast_object` and
    `gather_objects` pickle, and are used only before training and when a step fails.
    """

    def __init__(self, mpi):
        self.mpi = mpi
        self.world = mpi.COMM_WORLD
        self.rank, self.size = self.world.Get_rank(), self.world.Get_size()

    def sum_in_place(self, buffer: np.ndarray) -> np.ndarray:
        """Replace `buffer` by its element-wise sum over every process (one MPI_Allreduce)."""
        self.world.Allreduce(self.mpi.IN_PLACE, buffer, op=self.mpi.SUM)
        return buffer

    def sum(self, array: np.ndarray) -> np.ndarray:
        """A new array: `array` summed over every process."""
        out = np.ascontiguousarray(array).copy()
        return self.sum_in_place(out)

    def broadcast_in_place(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        self.world.Bcast(buffer, root=root)
        return buffer

    def broadcast_object(self, value, root: int = 0):
        return self.world.bcast(value, root=root)

    def gather_objects(self, value) -> list:
        """Every process's `value`, in rank order, on every process."""
        return self.world.allgather(value)

    def abort(self, message: str, code: int = 1) -> None:
        """Print `message` on this process's stderr and end every process of the job at once.

        The job ends `ABORT_GRACE` seconds after the message is written: MPICH's mpiexec, ending
        the job at once, now and then dropped the line still on its way (3 test runs in 70)."""
        print(message, file=sys.stderr, flush=True)
        time.sleep(ABORT_GRACE)
        self.world.Abort(code)


def install_abort_on_uncaught_exception(communicator: Communicator) -> None:
    """An exception nobody catches on one process ends the whole job with its traceback,
    instead of leaving the other processes waiting in a collective forever."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if issubclass(kind, (KeyboardInterrupt, SystemExit)):
            return previous(kind, value, tb)
        text = "".join(traceback.format_exception(kind, value, tb))
        communicator.abort(f"{text}barenet.distributed: process {communicator.rank} of {communicator.size} "
                           f"raised {kind.__name__}: {value}; stopping every process.")

    sys.excepthook = hook

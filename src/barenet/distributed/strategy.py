"""`DataParallel`: every process holds a full replica and trains on its share of every global batch.

What `fit` does under it (`Trainer.fit` hands over here when a strategy of more than one process
is active):

1. Checks, on every process, before anything changes: the same model (weight names, shapes and
   dtypes, layer configs), optimizer, loss, metrics, data shapes and a sample of its rows, and
   the same `fit` arguments (`steps`, `epochs`...), and the same number of steps per epoch;
   otherwise a `ValueError` naming what differs.
2. Broadcasts rank 0's weights, layer state, optimizer state (iterations, slots) and shuffling
   generator, so every replica starts identical.
3. Runs the ordinary loop (`loops.fit_loop`). For arrays, `batch_size` is the GLOBAL batch
   (Keras's convention for data parallelism): each process takes a contiguous share of every
   batch (sizes differ by at most one row). A batch source (a `ShardedDataset`, a PyDataset, a
   generator) yields each process's own batches instead. The step averages the gradients with
   one allreduce (see `step.py`); the optimizer step is then the same everywhere.
4. Keeps callbacks in step: batch logs are global means; epoch logs, BatchNormalization's moving
   statistics and the shuffling generator are rank 0's, broadcast at every epoch boundary. Only
   rank 0 prints progress and runs `ModelCheckpoint`, `CSVLogger` and `TensorBoard`.
5. Faults: a step that raises on one process raises `DistributedStepError` on all; any other
   exception on one process aborts the job (MPI_Abort) with its message; Ctrl-C on any process
   stops every process after the same batch (the update of that batch is applied everywhere).
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading

import numpy as np

from ..callbacks import Callback, CSVLogger, ModelCheckpoint, TensorBoard
from ..layers.context import CONTEXT
from .step import DistributedStepError, GradientAllReducer

# Callbacks that write files: run on rank 0 only (the others would write the same bytes).
CHIEF_ONLY = (ModelCheckpoint, CSVLogger, TensorBoard)


class DataParallel:
    """Synchronous data-parallel training over MPI (the strategy `barenet.distributed.initialize()`
    returns).

    Args:
        communicator: A `comm.Communicator` (MPI.COMM_WORLD), or None for one process.

    Attributes:
        rank: This process's index, 0 ... `size` - 1.
        size: Number of processes.
        is_chief: True on rank 0, the process that prints and writes files.
    """

    def __init__(self, communicator=None):
        self.communicator = communicator
        self.rank = communicator.rank if communicator is not None else 0
        self.size = communicator.size if communicator is not None else 1
        self.interrupted = False
        self.local_batches = False  # True when each process's data source yields its own batches
        self._reducer = None

    @property
    def is_chief(self) -> bool:
        return self.rank == 0

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, size={self.size})"

    # --- fit ---------------------------------------------------------------------------------------
    def fit(self, model, data, epochs, initial_epoch, validation, validation_freq, callbacks, verbose):
        """`loops.fit_loop` over every process (arguments as there); returns the `History`.

        Arrays (`ArrayAdapter`): `batch_size` is the global batch; each process takes its contiguous
        share of every batch (a memmap's global batch rows are read by every process; a
        `ShardedDataset` reads each process's own shards only). Batch
        sources (a PyDataset, a generator, a `ShardedDataset`): each process's source yields
        that process's batches, and every process must make the same number of steps.
        """
        from .. import loops
        from ..data_adapters import ArrayAdapter

        adapter = data.adapter
        arrays = isinstance(adapter, ArrayAdapter)
        described = {"epochs": epochs, "initial_epoch": initial_epoch, "steps_per_epoch": data.steps_per_epoch,
                     "validation_freq": validation_freq}
        if arrays:
            described.update(samples=adapter.n, batch_size=adapter.batch_size, shuffle=str(adapter.shuffle))
        held_out = None
        if validation is not None and isinstance(validation.adapter, ArrayAdapter):
            held_out = (validation.adapter.xs, validation.adapter.ys)
        self.check_same_everywhere(model, adapter.xs if arrays else [], (adapter.ys or []) if arrays else [],
                                   held_out, described)
        steps = self.communicator.gather_objects(data.num_steps)
        if len(set(steps)) > 1:
            raise ValueError("Every process must make the same number of steps per epoch, but their data give "
                             + ", ".join(f"process {rank}: {count}" for rank, count in enumerate(steps))
                             + ". Give every process as many batches (ShardedDataset does), or pass steps_per_epoch.")
        if arrays:
            batch_size = adapter.batch_size
            if batch_size < self.size:
                raise ValueError(f"`batch_size` is the global batch, shared by {self.size} processes, so it must be "
                                 f"at least {self.size}. Received: batch_size={batch_size}")
            remainder = adapter.n % batch_size
            if 0 < remainder < self.size and any(getattr(layer, "synchronized", False)
                                                 for layer in model.weight_layers()):
                raise ValueError(f"The last batch of each epoch would hold {remainder} samples for {self.size} "
                                 "processes, leaving a process without rows, which synchronized BatchNormalization "
                                 "cannot handle. Choose a batch_size or sample count so that it holds none or at "
                                 "least one per process.")
        self.local_batches = not arrays  # arrays: every process gets the global batch and takes its share
        self.broadcast_model(model)
        self._reducer = GradientAllReducer(self.communicator, model)
        if not self.is_chief:
            callbacks = [callback for callback in callbacks if not isinstance(callback, CHIEF_ONLY)]
            verbose = 0
        callbacks = [_KeepReplicasInStep(self), *callbacks]
        saved_sum, restore_signal = CONTEXT.__dict__.get("replica_sum"), self._catch_interrupt()
        model._replicas, CONTEXT.replica_sum = self, self.communicator.sum
        try:
            return loops.fit_loop(model, data, epochs, initial_epoch, validation, validation_freq, callbacks, verbose)
        except DistributedStepError:
            raise  # every process raises it after the same collective
        except Exception as error:  # raised on this process alone: nobody else would ever know
            self.communicator.abort(f"barenet.distributed: process {self.rank} of {self.size} raised "
                                    f"{type(error).__name__}: {error}; stopping every process.")
            raise
        finally:
            del model._replicas
            if saved_sum is None:
                CONTEXT.__dict__.pop("replica_sum", None)
            else:
                CONTEXT.replica_sum = saved_sum
            restore_signal()
            self._reducer = None

    def forward_backward(self, model, xs, ys, forward_backward, sample_weight=None):
        """The hook `training.train_step` calls between backward and the update (see `step.py`)."""
        return self._reducer.step(model, xs, ys, forward_backward, self.interrupted, self.local_batches,
                                  sample_weight)

    # --- before training -------------------------------------------------------------------------
    def check_same_everywhere(self, model, xs, ys, validation, arguments: dict) -> None:
        """Raise the same `ValueError` on every process when their models, data or `fit` arguments differ."""
        parts = fingerprint(model, xs, ys, validation, arguments)
        everyone = self.communicator.gather_objects(parts)
        differing = {}
        for rank, theirs in enumerate(everyone[1:], start=1):
            for name, digest in theirs.items():
                if digest != everyone[0].get(name):
                    differing.setdefault(name, []).append(rank)
        if differing:
            detail = "; ".join(f"{name} differs on process(es) {', '.join(map(str, ranks))}"
                               for name, ranks in differing.items())
            raise ValueError(f"Every process must build the same model and call fit with the same data and "
                             f"arguments, but compared with process 0: {detail}.")

    def broadcast_model(self, model) -> None:
        """Give every process rank 0's weights, layer state, optimizer state and generator."""
        arrays = [value for layer in model.weight_layers() for value in (*layer.params.values(), *layer.state.values())]
        self.broadcast_arrays(arrays)
        state = model.optimizer.get_state()
        state = self.communicator.broadcast_object(state if self.is_chief else None)
        if not self.is_chief and (state["iterations"] or state["slots"]):
            model.optimizer.set_state(state)
        self.broadcast_generator(model)

    def broadcast_arrays(self, arrays) -> None:
        """Overwrite `arrays` with rank 0's, in one broadcast of their bytes."""
        if not arrays:
            return
        buffer = np.concatenate([np.ascontiguousarray(a).view(np.uint8).ravel() for a in arrays])
        self.communicator.broadcast_in_place(buffer)
        offset = 0
        for array in arrays:
            array[...] = buffer[offset:offset + array.nbytes].view(array.dtype).reshape(array.shape)
            offset += array.nbytes

    def broadcast_generator(self, model) -> None:
        state = self.communicator.broadcast_object(model.rng.bit_generator.state if self.is_chief else None)
        model.rng.bit_generator.state = state

    def _catch_interrupt(self):
        """Ctrl-C sets a flag that the next step's allreduce carries to every process; a second one
        ends the job at once. Returns the function that puts the previous handler back."""
        self.interrupted = False
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if self.interrupted:
                self.communicator.abort(f"barenet.distributed: interrupted twice on process {self.rank}; "
                                        "stopping every process now.", 130)
            self.interrupted = True

        signal.signal(signal.SIGINT, handler)
        return lambda: signal.signal(signal.SIGINT, previous)


class _KeepReplicasInStep(Callback):
    """First in the list: rank 0's generator before each epoch; rank 0's logs and layer state after."""

    def __init__(self, strategy: DataParallel):
        super().__init__()
        self.strategy = strategy

    def on_epoch_begin(self, epoch, logs=None):
        self.strategy.broadcast_generator(self.model)

    def on_batch_end(self, batch, logs=None):
        if self.strategy._reducer.interrupt_seen:  # Ctrl-C reached some process before this step
            raise KeyboardInterrupt  # on every process, after the same update: the loop's Ctrl-C stop

    def on_epoch_end(self, epoch, logs=None):
        states = [value for layer in self.model.weight_layers() for value in layer.state.values()]
        self.strategy.broadcast_arrays(states)
        chief_logs = self.strategy.communicator.broadcast_object(dict(logs or {}) if self.strategy.is_chief else None)
        if logs is not None:
            logs.clear()
            logs.update(chief_logs)


def fingerprint(model, xs, ys, validation, arguments: dict) -> dict:
    """Short digests of what must agree across processes, by name (compared, never trusted)."""
    def digest(value) -> str:
        text = json.dumps(value, sort_keys=True, default=lambda o: type(o).__name__)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def rows_sample(arrays) -> str:
        h = hashlib.sha256()
        for array in arrays:
            step = max(1, len(array) // 16)
            h.update(str((array.shape, str(array.dtype))).encode())
            h.update(np.ascontiguousarray(array[::step][:17]).tobytes())
        return h.hexdigest()[:16]

    layers = model.weight_layers(with_prefix=True)
    return {
        "the model's weights (names, shapes, dtypes)": digest(
            [(prefix + key, list(value.shape), str(value.dtype)) for prefix, layer in layers
             for key, value in (*layer.params.items(), *layer.state.items())]),
        "the layers' configs": digest([(type(layer).__name__, _config(layer)) for _, layer in layers]),
        "the optimizer": digest([type(model.optimizer).__name__, model.optimizer.get_config()]),
        "the loss and metrics": digest([[type(loss).__name__ for loss in getattr(model, "compiled_loss", [])],
                                        getattr(model, "compiled_metrics", None), getattr(model, "metrics_names", None),
                                        getattr(model, "loss_weights_list", None)]),
        "the training data (shapes, dtypes, sampled rows)": rows_sample([*xs, *ys]),
        "the validation data": "none" if validation is None else rows_sample([*validation[0], *validation[1]]),
        "the fit arguments (epochs, batch_size, shuffle, sample count)": digest(arguments),
    }


def _config(layer):
    try:
        return layer.get_config()
    except Exception:  # noqa: BLE001 - a custom layer without a usable config: its type and weights count
        return None

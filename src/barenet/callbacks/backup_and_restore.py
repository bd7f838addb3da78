"""`BackupAndRestore`: resume an interrupted `fit` where it stopped."""

from __future__ import annotations

import json
import os

import numpy as np

from .base import Callback, batch_counter

BACKUP_FILE = "latest.backup.npz"


class BackupAndRestore(Callback):
    """Back up the training state so that a `fit` that was interrupted resumes where it stopped.

    The backup is one file in `backup_dir`, written atomically (a crash during a backup keeps the
    previous one): every layer's weights and state (BatchNormalization statistics), the
    optimizer's slots and step count, the model's random-generator state (which drives
    shuffling and dropout) and the number of finished epochs. When `fit` starts and a backup
    exists, all of it is put back and training carries on from that epoch, so an interrupted
    and resumed run ends with the same weights as an uninterrupted one (with the default
    `save_freq="epoch"`). Run the same `fit(...)` call again, with this callback, to resume.

    Args:
        backup_dir: Folder for the backup (created when needed). Use one folder per training job.
        save_freq: "epoch" (after every epoch) or an integer: also after every that many batches;
            such a backup resumes at the start of the epoch it was taken in, with the weights it
            saved (as Keras does), so the resumed run is not bit-identical. Defaults to "epoch".
        delete_checkpoint: Remove the backup when training finishes (not when it is
            interrupted). Defaults to True.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir or not isinstance(backup_dir, (str, os.PathLike)):
            raise ValueError(f"`backup_dir` must be a non-empty path. Received: backup_dir={backup_dir!r}")
        self.backup_dir, self.save_freq, self.delete_checkpoint = os.fspath(backup_dir), save_freq, delete_checkpoint
        self.path = os.path.join(self.backup_dir, BACKUP_FILE)
        self._counter, self._epoch = batch_counter(save_freq), 0

    def on_train_begin(self, logs=None):
        if os.path.exists(self.path):
            self._restore()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._backup(self._epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._backup(epoch + 1)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
            try:
                os.rmdir(self.backup_dir)
            except OSError:  # other files live there: leave the folder
                pass

    # --- the state ------------------------------------------------------------------------------
    def _arrays(self) -> dict:
        model, arrays = self.model, {}
        for prefix, layer in model.weight_layers(with_prefix=True):
            for key, value in layer.params.items():
                arrays[f"param:{prefix}{key}"] = value
            for key, value in layer.state.items():
                arrays[f"state:{prefix}{key}"] = value
        return arrays

    def _backup(self, epoch: int) -> None:
        from ..saving.atomic import atomic_write

        model = self.model
        state = model.optimizer.get_state()
        arrays = dict(self._arrays())
        for key, slots in state["slots"].items():
            for name, value in slots.items():
                arrays[f"slot:{name}:{key}"] = value
        meta = {"epoch": epoch, "rng_state": model.rng.bit_generator.state,
                "optimizer": {k: v for k, v in state.items() if k != "slots"}}
        arrays["meta"] = np.array(json.dumps(meta, default=float))
        os.makedirs(self.backup_dir, exist_ok=True)
        atomic_write(self.path, lambda f: np.savez(f, **arrays))

    def _restore(self) -> None:
        model = self.model
        if not model.built:
            raise ValueError("BackupAndRestore needs a built model to restore into: build it (call it on a batch, "
                             "or give it an Input) before fit().")
        with np.load(self.path, allow_pickle=False) as archive:
            saved = {key: archive[key] for key in archive.files}
        meta = json.loads(str(saved.pop("meta")))
        current = self._arrays()
        weights = {k: v for k, v in saved.items() if not k.startswith("slot:")}
        if set(weights) != set(current) or any(weights[k].shape != current[k].shape for k in current):
            raise ValueError(f"The backup {self.path!r} does not fit this model (other layers or shapes). Remove "
                             "it, or point `backup_dir` at this model's own folder.")
        slots: dict = {}
        for key, value in saved.items():
            if key.startswith("slot:"):
                _, name, param = key.split(":", 2)
                slots.setdefault(param, {})[name] = value
        for key, target in current.items():
            target[...] = weights[key]
        model.optimizer.set_state({**meta["optimizer"], "slots": slots})
        model.rng.bit_generator.state = meta["rng_state"]
        model._initial_epoch = int(meta["epoch"])

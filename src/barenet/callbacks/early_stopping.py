"""`EarlyStopping`: stop training when a logged value stops improving."""

from __future__ import annotations

from .monitor import Monitor, check_count, check_number


class EarlyStopping(Monitor):
    """Stop training when `monitor` has not improved for `patience` epochs (Keras 3's rules).

    Args:
        monitor: Log to watch. Defaults to "val_loss".
        min_delta: Smallest change that counts as an improvement. Defaults to 0.
        patience: Epochs without improvement before stopping. Defaults to 0.
        verbose: Print a line when stopping and when restoring. Defaults to 0.
        mode: "min", "max" or "auto" (max for accuracies, min otherwise). Defaults to "auto".
        baseline: A value to beat: `wait` only restarts on an epoch that improves on the best
            so far and on `baseline`, so training stops after `patience` epochs that stay
            short of it. Defaults to None.
        restore_best_weights: At the end of training, whether it stopped early or not, put back
            the weights of the best epoch seen (the first watched epoch's when none improved).
            Defaults to False.
        start_from_epoch: Epochs to wait before watching at all (a warm-up). Defaults to 0.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose = check_count("patience", patience), verbose
        self.start_from_epoch = check_count("start_from_epoch", start_from_epoch)
        self.baseline = None if baseline is None else check_number("baseline", baseline, low=-float("inf"))
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def _improves(self, current, reference) -> bool:
        return reference is None or self._better(current, reference, self.min_delta)

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

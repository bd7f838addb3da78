"""Callbacks: hooks into `fit`, `evaluate` and `predict` (Keras 3's hooks, arguments and order).

Every hook of `Callback` fires with Keras's arguments and logs. In `fit`:

    on_train_begin
      on_epoch_begin(epoch)                       for epoch in range(initial_epoch, epochs)
        on_train_batch_begin(step) / on_train_batch_end(step, running logs)
        on_test_begin / on_test_batch_begin / on_test_batch_end / on_test_end    validation
      on_epoch_end(epoch, logs with the val_ values)
    on_train_end(the last epoch's logs)

`evaluate` calls `on_test_*`, `predict` `on_predict_*`. The modules: `base` (`Callback`,
`CallbackList`), `history`, `early_stopping`, `learning_rate` (`ReduceLROnPlateau`,
`LearningRateScheduler`), `model_checkpoint`, `backup_and_restore`, `csv_logger`,
`lambda_callback` (`LambdaCallback`, `TerminateOnNaN`), `tensorboard`, `interrupt` (Ctrl-C).
"""

from .backup_and_restore import BackupAndRestore
from .base import Callback, CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .interrupt import interrupt_at_batch_boundary
from .lambda_callback import LambdaCallback, TerminateOnNaN
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .tensorboard import TensorBoard

__all__ = [
           "BackupAndRestore",
           "CSVLogger",
           "Callback",
           "CallbackList",
           "EarlyStopping",
           "History",
           "LambdaCallback",
           "LearningRateScheduler",
           "ModelCheckpoint",
           "ReduceLROnPlateau",
           "TensorBoard",
           "TerminateOnNaN",
           "interrupt_at_batch_boundary",
]

"""The UCI optical-recognition handwritten digits, embedded in the package (no network).

1,797 grayscale 8x8 images of the digits 0-9, pixels are integers 0..16 (not 0..255),
as scikit-learn ships them. CC BY 4.0: see `data/README.md` for the attribution.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_FILE = Path(__file__).with_name("data") / "digits.npz"
NUM_CLASSES = 10
MAX_PIXEL = 16


def load_data():
    """Return `(x_train, y_train), (x_test, y_test)`.

    `x_*` are uint8 arrays of shape `(samples, 8, 8)` with values 0..16; `y_*` are
    uint8 labels 0..9. The split is fixed: 1,437 training and 360 test images (a
    permutation drawn once with seed 0 when the file was made), the same on every call.
    """
    with np.load(_FILE, allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])

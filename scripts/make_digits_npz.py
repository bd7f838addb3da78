"""Rebuild `src/barenet/datasets/data/digits.npz` from scikit-learn's copy of the UCI digits.

Run once, offline, by a maintainer (needs scikit-learn; barenet itself never imports it):

    python scripts/make_digits_npz.py

The split is fixed: a permutation drawn from `numpy.random.default_rng(0)`; the last
360 samples of it (20%) are the test set, the first 1,437 the training set. Pixels stay
the dataset's integers 0..16, stored as uint8, images 8x8.
"""

import gzip
from pathlib import Path

import numpy as np
import sklearn

SOURCE = Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"
TARGET = Path(__file__).resolve().parents[1] / "src" / "barenet" / "datasets" / "data" / "digits.npz"
TEST_SIZE = 360

with gzip.open(SOURCE, "rt") as f:
    table = np.loadtxt(f, delimiter=",", dtype=np.int64)
images, labels = table[:, :64].reshape(-1, 8, 8), table[:, 64]
assert images.shape == (1797, 8, 8) and images.min() >= 0 and images.max() <= 16
assert set(labels.tolist()) == set(range(10))
order = np.random.default_rng(0).permutation(len(labels))
train, test = order[:-TEST_SIZE], order[-TEST_SIZE:]
np.savez_compressed(TARGET, x_train=images[train].astype(np.uint8), y_train=labels[train].astype(np.uint8),
                    x_test=images[test].astype(np.uint8), y_test=labels[test].astype(np.uint8))
print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")

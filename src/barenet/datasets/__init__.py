"""Datasets, Keras style: `<name>.load_data()` returns `(x_train, y_train), (x_test, y_test)`.

- `digits`: 1,797 8x8 handwritten digits embedded in the package (no network).
- `mnist`, `fashion_mnist`: 70,000 28x28 images each, found on disk or downloaded
  (see `remote` for where they are looked for and how downloads are verified).
- `write_shards`, `write_shards_from_idx`, `ShardedDataset`: data larger than memory as a
  folder of `.npy` shards, streamed in constant memory (see `shards`).
"""

from . import digits, fashion_mnist, mnist
from .idx import read_idx
from .remote import DownloadError, cache_dir
from .shards import ShardedDataset, write_shards, write_shards_from_idx

DATASETS = {"digits": digits, "mnist": mnist, "fashion-mnist": fashion_mnist, "fashion_mnist": fashion_mnist}

__all__ = ["digits", "mnist", "fashion_mnist", "read_idx", "DownloadError", "cache_dir", "DATASETS",
           "ShardedDataset", "write_shards", "write_shards_from_idx"]

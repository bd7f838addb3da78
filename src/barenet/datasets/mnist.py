"""MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 training and 10,000 test images, 28x28.

`load_data()` finds or downloads the four IDX files; see `barenet.datasets.remote` for
where it looks and how downloads are verified.
"""

from __future__ import annotations

from .remote import IDXDataset, load_idx_dataset

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
# The original site (yann.lecun.com) no longer serves the files reliably; these mirror it.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
SIZES = {  # most bytes each file may have, a little above its real size
    "train-images-idx3-ubyte.gz": 10 * 2**20,
    "train-labels-idx1-ubyte.gz": 64 * 2**10,
    "t10k-images-idx3-ubyte.gz": 2 * 2**20,
    "t10k-labels-idx1-ubyte.gz": 16 * 2**10,
}
NUM_CLASSES = 10
DATASET = IDXDataset("mnist", FILES, SHA256, MIRRORS, sizes=SIZES)


def load_data(data_dir=None, *, mirrors=None, sha256=None, download: bool = True, timeout: float = 30.0):
    """Return `(x_train, y_train), (x_test, y_test)`: uint8 images `(n, 28, 28)`, uint8 labels `(n,)`.

    Args:
        data_dir: A folder holding the four IDX files (or a `mnist` subfolder of it),
            looked in first. Defaults to None.
        mirrors: Base URLs to download from instead of `MIRRORS`. Defaults to None.
        sha256: Expected SHA-256 by file name instead of `SHA256`. Defaults to None.
        download: Whether to download missing files into the cache. Defaults to True.
        timeout: Seconds to wait for a mirror to answer and for each read; a whole file
            must also arrive within `remote.DOWNLOAD_DEADLINE` seconds. Defaults to 30.
    """
    return load_idx_dataset(DATASET, data_dir, mirrors=mirrors, sha256=sha256, download=download, timeout=timeout)

"""Fashion-MNIST (Xiao, Rasul, Vollgraf, 2017; MIT license): 60,000 + 10,000 28x28 images of clothing.

`load_data()` finds or downloads the four IDX files; see `barenet.datasets.remote` for
where it looks and how downloads are verified. After the cache it also looks in
`/usr/share/datasets/fashion-mnist`, where Debian's `dataset-fashion-mnist` package
installs them.
"""

from __future__ import annotations

from .remote import IDXDataset, load_idx_dataset

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
SIZES = {  # most bytes each file may have, a little above its real size
    "train-images-idx3-ubyte.gz": 27 * 2**20,
    "train-labels-idx1-ubyte.gz": 64 * 2**10,
    "t10k-images-idx3-ubyte.gz": 5 * 2**20,
    "t10k-labels-idx1-ubyte.gz": 16 * 2**10,
}
NUM_CLASSES = 10
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DATASET = IDXDataset("fashion-mnist", FILES, SHA256, MIRRORS, system_dirs=(DEBIAN_DIR,), sizes=SIZES)


def load_data(data_dir=None, *, mirrors=None, sha256=None, download: bool = True, timeout: float = 30.0):
    """Return `(x_train, y_train), (x_test, y_test)`: uint8 images `(n, 28, 28)`, uint8 labels `(n,)`.

    Args:
        data_dir: A folder holding the four IDX files (or a `fashion-mnist` subfolder
            of it), looked in first. Defaults to None.
        mirrors: Base URLs to download from instead of `MIRRORS`. Defaults to None.
        sha256: Expected SHA-256 by file name instead of `SHA256`. Defaults to None.
        download: Whether to download missing files into the cache. Defaults to True.
        timeout: Seconds to wait for a mirror to answer and for each read; a whole file
            must also arrive within `remote.DOWNLOAD_DEADLINE` seconds. Defaults to 30.
    """
    return load_idx_dataset(DATASET, data_dir, mirrors=mirrors, sha256=sha256, download=download, timeout=timeout)

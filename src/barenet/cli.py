"""The `barenet` command (also `python -m barenet`).

    barenet train                      # offline: an MLP on the embedded digits, prints test accuracy
    barenet train --dataset fashion-mnist --model 256,128 --epochs 5 --output model.npz --plot curves.png
    mpiexec -n 4 barenet train --dataset fashion-mnist --distributed   # data-parallel over 4 processes
    barenet evaluate model.npz --dataset fashion-mnist
    barenet predict model.npz images.npy          # or image files: a.png b.png
    barenet summary model.npz
    barenet --version

Errors print one line on stderr (`barenet: error: ...`) and exit with status 1 (2 for bad
options, 130 for Ctrl-C), never a traceback: out-of-memory and image-library errors
included. Output paths are checked before training; training that stops early (a NaN or
inf loss, gradient or update) exits with status 1 and saves nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
import sys

import numpy as np

from . import __version__
from .datasets import DATASETS, DownloadError
from .saving import MAX_PARAMS, MAX_SAMPLE_ELEMENTS

_DEFAULTS = {  # dataset -> (epochs, learning rate) that train in seconds to a sensible accuracy
    "digits": (20, 0.003),
    "mnist": (5, 0.001),
    "fashion-mnist": (5, 0.001),
}


class CLIError(Exception):
    """A user mistake the command reports in one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="barenet", description="Train, evaluate and use barenet models.")
    parser.add_argument("--version", action="version", version=f"barenet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train a network end to end and print its test accuracy")
    _dataset_options(train)
    train.add_argument("--model", default="mlp",
                       help="mlp, cnn, or hidden layer sizes such as 256,128 (default: mlp = 128,64)")
    train.add_argument("--epochs", type=int, help="passes over the data (default: 20 for digits, 5 otherwise)")
    train.add_argument("--batch-size", type=int, default=32, help="samples per step (default: 32)")
    train.add_argument("--optimizer", default="adam", choices=["adam", "sgd"], help="(default: adam)")
    train.add_argument("--lr", type=float, help="learning rate (default: 0.003 for digits, 0.001 otherwise)")
    train.add_argument("--validation-split", type=float, default=0.1, help="(default: 0.1)")
    train.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (default: 0)")
    train.add_argument("--output", metavar="MODEL_FILE", help="save the trained model here")
    train.add_argument("--plot", metavar="PNG",
                       help="save loss/accuracy curves here, plus a confusion matrix and sample predictions")
    train.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2], help="progress output (default: 1)")
    train.add_argument("--distributed", action="store_true",
                       help="under mpiexec: data-parallel training across its processes (--batch-size is the "
                            "global batch; rank 0 prints and saves); alone: ordinary training with a notice")

    evaluate = commands.add_parser("evaluate", help="print a saved model's loss and metrics on a test set")
    evaluate.add_argument("model", help="a model file written by barenet")
    _dataset_options(evaluate)

    predict = commands.add_parser("predict", help="print a saved model's predicted class for each input")
    predict.add_argument("model", help="a model file written by barenet")
    predict.add_argument("inputs", nargs="+", metavar="INPUT", help="one .npy array of samples, or image files")
    predict.add_argument("--resize", action="store_true",
                         help="scale images of another size to the model's input (default: refuse them)")

    summary = commands.add_parser("summary", help="print a saved model's layer table")
    summary.add_argument("model", help="a model file written by barenet")
    return parser


def _dataset_options(parser):
    parser.add_argument("--dataset", default="digits", choices=["digits", "mnist", "fashion-mnist"],
                        help="(default: digits, embedded, no network)")
    parser.add_argument("--data-dir", help="folder holding the dataset's files (mnist, fashion-mnist)")


def main(argv=None) -> int:
    """Run the command line `argv` (default: `sys.argv[1:]`); return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a bad option (argparse printed why)
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return {"train": _train, "evaluate": _evaluate, "predict": _predict, "summary": _summary}[args.command](args)
    except KeyboardInterrupt:
        print("barenet: interrupted", file=sys.stderr)
        return 130
    except (CLIError, DownloadError, ValueError, TypeError, OSError, RuntimeError, ImportError,
            ArithmeticError) as error:
        return _fail(str(error) or type(error).__name__)
    except MemoryError as error:
        return _fail(f"out of memory{': ' + str(error) if str(error) else ''}. Try a smaller model, batch or input.")
    except Exception as error:  # the promise is one line, never a traceback
        return _fail(f"unexpected {type(error).__name__}: {error}")


def _fail(message: str) -> int:
    print(f"barenet: error: {' '.join(message.split())}", file=sys.stderr)
    return 1


# --- data ----------------------------------------------------------------------------------------
def _load_dataset(name: str, data_dir):
    """Images scaled to [0, 1] (float32) and integer labels."""
    module = DATASETS[name]
    if name == "digits":
        if data_dir is not None:
            raise CLIError("--data-dir does not apply to digits, which ships inside barenet.")
        (x_train, y_train), (x_test, y_test) = module.load_data()
    else:
        (x_train, y_train), (x_test, y_test) = module.load_data(data_dir)
    scale = 16.0 if name == "digits" else 255.0
    return ((x_train / scale).astype("float32"), y_train.astype(np.int64),
            (x_test / scale).astype("float32"), y_test.astype(np.int64))


def _build_model(spec: str, image_shape, seed: int):
    import barenet as bn

    if spec == "cnn":
        from .layers import Conv2D, Flatten, MaxPooling2D

        return bn.Sequential([Conv2D(16, 3, activation="relu", padding="same"), MaxPooling2D(2),
                              Conv2D(32, 3, activation="relu", padding="same"), MaxPooling2D(2),
                              Flatten(), bn.Dense(64, "relu"), bn.Dense(10, "softmax")], seed=seed), True
    sizes = "128,64" if spec == "mlp" else spec
    try:
        units = [int(part) for part in sizes.split(",")]
    except ValueError:
        units = []
    if not units or min(units) < 1:
        raise CLIError(f"--model must be mlp, cnn or positive layer sizes such as 256,128. Received: {spec!r}")
    inputs = int(np.prod(image_shape))
    sizes = [inputs, *units, 10]
    params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if params > MAX_PARAMS or max(units) > MAX_SAMPLE_ELEMENTS:
        raise CLIError(f"--model {spec} would have {params:,} parameters; barenet builds at most {MAX_PARAMS:,} "
                       f"(and {MAX_SAMPLE_ELEMENTS:,} units per layer).")
    layers = [bn.Dense(units[0], "relu", input_dim=inputs)] + [bn.Dense(u, "relu") for u in units[1:]]
    return bn.Sequential([*layers, bn.Dense(10, "softmax")], seed=seed), False


def _shape_for(model_is_cnn: bool, x):
    return x[..., None] if model_is_cnn else x.reshape(len(x), -1)


def _load_model(path):
    import barenet

    _check_regular_file(path, "model file")
    return barenet.load_model(path)


def _check_regular_file(path, what: str) -> None:
    """Refuse a missing path, a folder, a FIFO or a device before anything opens it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise CLIError(f"No {what} at {path!r}.") from None
    if not stat.S_ISREG(mode):
        raise CLIError(f"{path!r} is not a regular file (a folder, FIFO or device); expected a {what}.")


_PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def _check_output_path(path: str, option: str, suffixes=None) -> None:
    """Fail before training, not after: the folder must exist and be writable, the suffix known."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CLIError(f"{option} {path!r} is a folder; give a file name.")
    if not os.path.isdir(folder):
        raise CLIError(f"{option} {path!r}: the folder {folder!r} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {path!r}: the folder {folder!r} is not writable.")
    suffix = os.path.splitext(path)[1].lower()
    if suffixes is not None and suffix and suffix not in suffixes:
        raise CLIError(f"{option} {path!r}: the suffix must be one of {', '.join(suffixes)} (or none).")


# --- commands --------------------------------------------------------------------------------------
def _train(args) -> int:
    import barenet as bn

    epochs, lr = _DEFAULTS[args.dataset]
    epochs = args.epochs if args.epochs is not None else epochs
    lr = args.lr if args.lr is not None else lr
    if epochs < 1 or args.batch_size < 1:
        raise CLIError(f"--epochs and --batch-size must be positive. Received: {epochs} and {args.batch_size}")
    if not lr > 0:
        raise CLIError(f"--lr must be positive. Received: {lr}")
    if args.output is not None:  # fail before training, not after
        _check_output_path(args.output, "--output")
    if args.plot is not None:
        _check_output_path(args.plot, "--plot", _PLOT_SUFFIXES)
        from .plotting import _figure
        _figure((1, 1))
    chief = True
    if args.distributed:
        from . import distributed

        chief = distributed.initialize().is_chief
    x_train, y_train, x_test, y_test = _load_dataset(args.dataset, args.data_dir)
    model, is_cnn = _build_model(args.model, x_train.shape[1:], args.seed)
    optimizer = bn.optimizers.Adam(lr) if args.optimizer == "adam" else bn.optimizers.SGD(lr, momentum=0.9)
    model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
    if chief:
        print(f"Training on {args.dataset}: {len(x_train)} training and {len(x_test)} test images, "
              f"{epochs} epochs, {args.optimizer} lr={lr:g}, seed {args.seed}.", flush=True)
    history = model.fit(_shape_for(is_cnn, x_train), y_train, epochs=epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=args.verbose)
    if history.stop_reason is not None:
        raise CLIError("training stopped early (the reason is above), so nothing was saved.")
    if not chief:  # the other processes hold the same model; rank 0 reports and saves it
        return 0
    if args.verbose:
        model.summary()
    x_eval = _shape_for(is_cnn, x_test)
    results = model.evaluate(x_eval, y_test, verbose=0, return_dict=True)
    print(f"test loss: {results['loss']:.4f} - test accuracy: {results['accuracy']:.4f}")
    if args.output:
        model.save(args.output)
        print(f"saved the model to {args.output}")
    if args.plot:
        from . import plotting

        predicted = model.predict(x_eval, verbose=0).argmax(axis=1)
        names = getattr(DATASETS[args.dataset], "CLASS_NAMES", None)
        stem, ext = os.path.splitext(args.plot)
        ext = ext or ".png"
        written = [plotting.visualize(history, stem + ext),
                   plotting.plot_confusion_matrix(y_test, predicted, f"{stem}-confusion{ext}", names),
                   plotting.plot_image_grid(x_test[:32], y_test[:32], predicted[:32], f"{stem}-samples{ext}", names)]
        print("saved figures: " + ", ".join(written))
    return 0


def _test_set(args):
    _, _, x_test, y_test = _load_dataset(args.dataset, args.data_dir)
    return x_test, y_test


def _fit_inputs(model, x):
    """Reshape image batches to what the model's first layer takes."""
    expected = model.input_shape
    if expected is None or tuple(x.shape[1:]) == tuple(expected):
        return x
    if int(np.prod(x.shape[1:])) == int(np.prod(expected)):
        return x.reshape(len(x), *expected)
    raise CLIError(f"The model takes samples of shape {tuple(expected)}; the inputs have shape {tuple(x.shape[1:])}.")


def _evaluate(args) -> int:
    model = _load_model(args.model)
    x_test, y_test = _test_set(args)
    if not model.compiled:
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    classes = len(np.unique(y_test)) if y_test.size else 0
    units = model.output_shape[-1] if model.output_shape else None
    if units != 10 or len(model.output_shape) != 1:
        raise CLIError(f"The model outputs {model.output_shape}; {args.dataset} has 10 classes "
                       f"({classes} in its test set), so a classifier needs 10 outputs.")
    loss_name = type(model.loss).__name__
    y = y_test if "Sparse" in loss_name else np.eye(model.output_shape[-1], dtype="float32")[y_test]
    results = model.evaluate(_fit_inputs(model, x_test), y, verbose=0, return_dict=True)
    print(" - ".join(f"{key}: {value:.4f}" for key, value in results.items()))
    return 0


MAX_INPUT_BYTES = 2**30        # a .npy of inputs
MAX_IMAGE_PIXELS = 2**25       # an image file, checked before it is decoded


def _read_images(paths, shape, resize: bool):
    try:
        from PIL import Image
    except ImportError:
        raise CLIError("Reading image files needs Pillow: pip install pillow (or pass a .npy array).") from None
    height, width = shape[0], shape[1]
    images = []
    for path in paths:
        _check_regular_file(path, "image file")
        try:
            with Image.open(path) as image:
                images.append(_image_array(image, path, (width, height), resize))
        except CLIError:
            raise
        except Exception as error:  # Pillow raises many types for damaged or hostile files
            raise CLIError(f"Cannot read image {path!r}: {type(error).__name__}: {error}") from None
    return np.stack(images)


def _image_array(image, path, size, resize: bool) -> np.ndarray:
    """A grayscale image in [0, 1] at `size` (width, height); 16-bit images keep their precision."""
    from PIL import Image

    if image.size != size:
        if not resize:
            raise CLIError(f"Image {path!r} is {image.size[0]}x{image.size[1]} pixels; the model takes "
                           f"{size[0]}x{size[1]}. Pass --resize to scale it.")
        if image.size[0] * image.size[1] > MAX_IMAGE_PIXELS:
            raise CLIError(f"Image {path!r} is {image.size[0]}x{image.size[1]} pixels, more than "
                           f"{MAX_IMAGE_PIXELS:,} to decode.")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        pixels = np.asarray(image, np.float64)
        if pixels.size and (pixels.min() < 0 or pixels.max() > 65535):
            raise CLIError(f"Image {path!r} holds values outside 0..65535 (mode {image.mode}).")
        pixels = (pixels / 65535.0).astype(np.float32)
    elif image.mode == "F":
        raise CLIError(f"Image {path!r} holds floating-point pixels (mode F); convert it to 8 or 16 bits.")
    else:
        pixels = np.asarray(image.convert("L"), np.float32) / 255.0
    if pixels.shape[::-1] != size:
        pixels = np.asarray(Image.fromarray(pixels, mode="F").resize(size), np.float32)
    return pixels


def _read_npy(path) -> np.ndarray:
    """A .npy array of inputs in [0, 1]: its header is checked against the file before reading."""
    _check_regular_file(path, ".npy file")
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            header = np.lib.format.read_array_header_2_0 if version >= (2, 0) else np.lib.format.read_array_header_1_0
            shape, fortran, dtype = header(f)
            data_bytes = os.fstat(f.fileno()).st_size - f.tell()
    except (OSError, ValueError) as error:
        raise CLIError(f"Cannot read {path!r}: {error}") from None
    needed = math.prod(shape) * dtype.itemsize
    if needed != data_bytes or needed > MAX_INPUT_BYTES:
        raise CLIError(f"{path!r} declares {dtype} {shape} ({needed:,} bytes) but holds {data_bytes:,} bytes"
                       + (f"; at most {MAX_INPUT_BYTES:,} are read." if needed > MAX_INPUT_BYTES else "."))
    if dtype.kind not in "uif" or dtype.fields is not None:
        raise CLIError(f"{path!r} holds {dtype} values; expected numbers.")
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise CLIError(f"Cannot read {path!r}: {error}") from None
    if x.dtype == np.uint8:
        return x / np.float32(255)
    if x.dtype == np.uint16:
        return x / np.float32(65535)
    if x.dtype.kind in "iu":
        raise CLIError(f"{path!r} holds {x.dtype} integers: barenet scales uint8 (by 255) and uint16 (by 65535) "
                       "images; convert other integers to floats in [0, 1].")
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise CLIError(f"{path!r} holds NaN or infinite values, or values beyond float32's range.")
    return x


def _predict(args) -> int:
    model = _load_model(args.model)
    if len(args.inputs) == 1 and args.inputs[0].endswith(".npy"):
        x = _read_npy(args.inputs[0])
    else:
        side = int(round(np.sqrt(np.prod(model.input_shape))))
        shape = model.input_shape if len(model.input_shape) >= 2 else (side, side)
        x = _read_images(args.inputs, shape, args.resize)
    x = _fit_inputs(model, np.asarray(x, np.float32))
    probabilities = model.predict(x, verbose=0)
    labels = args.inputs if len(args.inputs) == len(x) else [str(i) for i in range(len(x))]
    for name, row in zip(labels, probabilities):
        print(f"{name}\t{int(row.argmax())}\t{float(row.max()):.4f}")
    return 0


def _summary(args) -> int:
    _load_model(args.model).summary()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Train the same networks in barenet, PyTorch (CPU) and Keras, side by side, and tabulate.

    python benchmarks/benchmark.py [--data-dir DIR] [--epochs 3] [--threads 2] [--cases mlp32 ...]

Every (library, case) runs in its own subprocess with the same thread count pinned
(OMP/OpenBLAS/MKL environment variables, `torch.set_num_threads`, and XLA's or
TensorFlow's thread settings for Keras, whose backend is KERAS_BACKEND or the first
installed of TensorFlow, JAX and PyTorch), the same
data (Fashion-MNIST scaled to [0, 1], float32), the same Glorot-uniform weights and
zero biases, the same batch size and optimizer (Adam, learning rate 1e-3). It
reports the median seconds per epoch (the first epoch is a warm-up and excluded),
samples per second, peak resident memory of the process and its growth during
training, test accuracy after the epochs, inference throughput, and barenet's time
as a ratio of each other library's. With several rounds (`--repeats`), the ratio and the
thread speed-up are taken per round, from runs made one after another, and the table gives
their median and range: a slow spell of a shared machine moves both runs of a pair alike,
where it would move a ratio of medians pooled over rounds. The table goes to stdout and to
`benchmarks/RESULTS.md` with the machine's CPU, core count, NumPy/BLAS build and
library versions. Libraries that are not installed are left out.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import barenet_loop
import image_models
import sequence_cases
import torch_loop

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "fashion-mnist"
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

CASES = {
    "mlp32": {"model": "mlp", "batch_size": 32, "title": "MLP 784-128-10, batch 32"},
    "mlp128": {"model": "mlp", "batch_size": 128, "title": "MLP 784-128-10, batch 128"},
    "cnn64": {"model": "cnn", "batch_size": 64, "title": "CNN C32-P-C64-P-D128-D10, batch 64"},
    "res32": {"model": "resmlp", "batch_size": 32, "title": "Residual MLP 784-128-(128 + skip)-10 (functional), batch 32"},
    "cnnbn64": {"model": "cnnbn", "batch_size": 64,
                "title": "CNN (C32-BN-P-Dropout)-(C64-BN-P-Dropout)-D128-D10, batch 64"},
    # Fashion-MNIST padded to 32 x 32 and repeated over 3 channels: a CIFAR-sized input.
    "cnnrgb64": {"model": "cnnrgb", "batch_size": 64, "title": "CNN 32x32x3 C32-C64-P-C64-P-D10 (same), batch 64"},
    # Sequence cases (synthetic data; barenet and PyTorch only): see sequence_cases.py.
    "lstm64": {"model": "lstm", "batch_size": 64, "title": "LSTM classifier, sequence 50, 128 units, batch 64"},
    "transformer32": {"model": "transformer", "batch_size": 32,
                      "title": "Transformer encoder, 2 blocks, sequence 64, width 128, 4 heads, batch 32"},
}
LIBRARIES = ("barenet", "pytorch", "keras")


# --- data ---------------------------------------------------------------------------------
def load_data(data_dir: Path, model: str):
    import numpy as np

    sys.path.insert(0, str(HERE.parent / "src"))
    from barenet.datasets import read_idx

    def find(name):
        for candidate in (data_dir / name, data_dir / name.removesuffix(".gz")):
            if candidate.exists():
                return candidate
        raise SystemExit(f"Missing {name} in {data_dir}: pass --data-dir with the Fashion-MNIST IDX files.")

    x_train, y_train, x_test, y_test = (read_idx(find(name)) for name in FILES)
    shape = (-1, 28, 28, 1) if model.startswith("cnn") else (-1, 784)

    def scale(x):  # to [0, 1]; for "cnnrgb" padded to 32 x 32 and repeated over 3 channels
        x = x.reshape(shape).astype("float32") / 255
        return np.repeat(np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)]), 3, axis=3) if model == "cnnrgb" else x
    keep = int(os.environ.get("BENCHMARK_TRAIN_SAMPLES", 0)) or len(x_train)  # --train-samples
    return scale(x_train[:keep]), y_train[:keep].astype("int64"), scale(x_test), y_test.astype("int64")


def peak_rss_mib() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- one library, one case (runs in a subprocess) -------------------------------------------
def run_barenet(case, data, epochs, seed):
    import numpy as np

    import barenet as bn

    x_train, y_train, x_test, y_test = data
    model = image_models.barenet_model(case["model"], seed)
    times, inference, accuracy = barenet_loop.fit_and_time(model, x_train, y_train, x_test, y_test,
                                                           case["batch_size"], epochs)
    return times, inference, accuracy, {"barenet": bn.__version__, "numpy": np.__version__}


def run_pytorch(case, data, epochs, seed, threads):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    model, channels_first = image_models.torch_model(case["model"], seed)
    x_train, y_train, x_test, y_test = image_models.torch_data(data, channels_first)
    times, inference, accuracy = torch_loop.train_and_time(model, x_train, y_train, x_test, y_test,
                                                           case["batch_size"], epochs)
    return times, inference, accuracy, {"torch": torch.__version__, "numpy": np.__version__}


def run_keras(case, data, epochs, seed, threads):
    import keras
    import numpy as np
    from keras import layers

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = data
    if case["model"] == "resmlp":
        inputs = keras.Input((784,))
        hidden = layers.Dense(128, "relu")(inputs)
        outputs = layers.Dense(10, "softmax")(hidden + layers.Dense(128, "relu")(hidden))
        stack = None
        model = keras.Model(inputs, outputs)
    elif case["model"] == "mlp":
        stack = [keras.Input((784,)), layers.Dense(128, "relu"), layers.Dense(10, "softmax")]
    elif case["model"] == "cnnbn":
        stack = [keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.BatchNormalization(),
                 layers.MaxPooling2D(2), layers.Dropout(0.25), layers.Conv2D(64, 3, activation="relu"),
                 layers.BatchNormalization(), layers.MaxPooling2D(2), layers.Dropout(0.25), layers.Flatten(),
                 layers.Dense(128, "relu"), layers.Dense(10, "softmax")]
    elif case["model"] == "cnnrgb":
        stack = [keras.Input((32, 32, 3)), layers.Conv2D(32, 3, padding="same", activation="relu"),
                 layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
                 layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                 layers.Dense(10, "softmax")]
    else:
        stack = [keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                 layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                 layers.Dense(128, "relu"), layers.Dense(10, "softmax")]
    if stack is not None:
        model = keras.Sequential(stack)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=1, batch_size=case["batch_size"], verbose=0)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    probabilities = model.predict(x_test, batch_size=case["batch_size"], verbose=0)
    inference = time.perf_counter() - start
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y_test))
    backend = keras.backend.backend()
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    backend_version = getattr(__import__(backend_module), "__version__", "?") if backend_module else "?"
    return times, inference, accuracy, {"keras": f"{keras.__version__} (backend {backend} {backend_version})"}


def worker(library, case_name, data_dir, epochs, seed, threads) -> dict:
    case = CASES[case_name]
    sequences = case["model"] in sequence_cases.MODELS
    data = sequence_cases.make_data(case["model"], seed) if sequences else load_data(Path(data_dir), case["model"])
    baseline = peak_rss_mib()
    with redirect_stdout(io.StringIO()):
        if sequences:
            if library == "keras":
                raise SystemExit(f"the {case_name} case has no Keras version")
            sys.path.insert(0, str(HERE.parent / "src"))
            runner = sequence_cases.run_barenet if library == "barenet" else sequence_cases.run_pytorch
            args = (case, data, epochs, seed) if library == "barenet" else (case, data, epochs, seed, threads)
            times, inference, accuracy, versions = runner(*args)
        elif library == "barenet":
            times, inference, accuracy, versions = run_barenet(case, data, epochs, seed)
        elif library == "pytorch":
            times, inference, accuracy, versions = run_pytorch(case, data, epochs, seed, threads)
        else:
            times, inference, accuracy, versions = run_keras(case, data, epochs, seed, threads)
    return {
        "library": library, "case": case_name, "threads": threads, "epoch_times": times, "epoch_s": median(times[1:] or times),
        "train_samples": len(data[0]), "samples_per_s": len(data[0]) / median(times[1:] or times), "inference_samples_per_s": len(data[2]) / inference,
        "peak_rss_mib": peak_rss_mib(), "training_rss_mib": peak_rss_mib() - baseline,
        "test_accuracy": accuracy, "versions": versions,
    }


def median(values) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def combine(rounds: list[dict]) -> dict:
    """One row from several rounds of a (library, case): the median over every measured epoch
    and every inference pass, the largest memory figures, the first round's accuracy."""
    measured = [t for r in rounds for t in (r["epoch_times"][1:] or r["epoch_times"])]
    epoch_s = median(measured)
    return {**rounds[0], "epoch_s": epoch_s, "samples_per_s": rounds[0]["train_samples"] / epoch_s,
            "inference_samples_per_s": median([r["inference_samples_per_s"] for r in rounds]),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in rounds),
            "training_rss_mib": max(r["training_rss_mib"] for r in rounds),
            "accuracies": [r["test_accuracy"] for r in rounds],
            "round_s": {r.get("round", 0): r["epoch_s"] for r in rounds}}


def paired(numerators: dict, denominators: dict) -> str:
    """`numerator / denominator` per round (each a run's median epoch, keyed by round) over the rounds
    both have: the median, and with several rounds the range, e.g. `0.74x (0.69-0.80)`."""
    ratios = sorted(numerators[k] / denominators[k] for k in numerators if k in denominators)
    if not ratios:
        return "—"
    spread = f" ({ratios[0]:.2f}-{ratios[-1]:.2f})" if len(ratios) > 1 else ""
    return f"{median(ratios):.2f}x{spread}"


# --- the driver -----------------------------------------------------------------------------
def installed(library: str, env: dict) -> bool:
    module = {"barenet": "numpy", "pytorch": "torch", "keras": "keras"}[library]
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, env=env)
    return probe.returncode == 0


def keras_environment(threads: int) -> dict:
    """Keras's backend (KERAS_BACKEND if set, else TensorFlow, JAX or PyTorch, the first installed)
    and, for JAX, XLA's CPU thread count pinned like the others'."""
    import importlib.util

    backend = os.environ.get("KERAS_BACKEND") or next(
        (name for name in ("tensorflow", "jax", "torch") if importlib.util.find_spec(name)), "tensorflow")
    env = {"KERAS_BACKEND": backend, "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1"}
    if backend == "jax":
        flags = f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} intra_op_parallelism_threads={threads}"
        env["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    return env


def machine_info(threads: int) -> list[str]:
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        blas_info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas_info['name']} {blas_info.get('version', '')}".strip()
    except Exception:  # older NumPy has no mode="dicts"
        blas = "unknown"
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    try:
        import numba
        off = os.environ.get("BARENET_FAST", "1").strip().lower() in ("0", "false", "no", "off")
        kernels = f"numba {numba.__version__} installed, {'off (BARENET_FAST=0)' if off else 'on'}"
    except ImportError:
        kernels = "off (numba not installed)"
    return [f"- CPU: {cpu}", (f"- Cores: {os.cpu_count()}, {usable} usable by this process (threads pinned to "
                              f"{threads} per library)"),
            f"- Python {platform.python_version()}, NumPy {np.__version__} with BLAS: {blas}",
            f"- barenet's compiled kernels (`barenet[fast]`): {kernels}"]


def table(results: list[dict]) -> list[str]:
    """One row per (case, threads, library); the time ratio is barenet's over the row's library at
    the same thread count, the speed-up the row's own 1-thread time over its time (when measured),
    each taken round by round (`paired`)."""
    lines = [("| case | threads | library | s/epoch (median) | samples/s | inference samples/s | peak RSS MiB (growth) "
              "| test acc | barenet time / this (per round: median, range) | speed-up vs 1 thread (per round) |"),
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for case in CASES:
        for threads in sorted({r["threads"] for r in results if r["case"] == case}):
            rows = [r for r in results if r["case"] == case and r["threads"] == threads]
            ours = next((r for r in rows if r["library"] == "barenet"), None)
            for r in rows:
                ratio = paired(ours["round_s"], r["round_s"]) if ours and r is not ours else "—"
                single = next((o for o in results if (o["case"], o["library"], o["threads"]) == (case, r["library"], 1)), None)
                speedup = paired(single["round_s"], r["round_s"]) if single and threads != 1 else "—"
                lines.append(f"| {CASES[case]['title']} | {threads} | {r['library']} | {r['epoch_s']:.2f} | "
                             f"{r['samples_per_s']:,.0f} | {r['inference_samples_per_s']:,.0f} | "
                             f"{r['peak_rss_mib']:,.0f} ({r['training_rss_mib']:,.0f}) | {r['test_accuracy']:.4f} | "
                             f"{ratio} | {speedup} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("BARENET_FASHION_MNIST_DIR", DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is a warm-up (default 3)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of every (library, case) run (default 1)")
    parser.add_argument("--threads", type=int, nargs="+", default=[os.cpu_count()],
                        help="thread counts to run each case at, e.g. `--threads 1 2` for the scaling (default: all cores)")
    parser.add_argument("--train-samples", type=int, default=0,
                        help="train on the first N samples only, for a quick run (default 0: all 60,000)")
    parser.add_argument("--pool-threads", type=int, default=None,
                        help="barenet's own thread pool (BARENET_NUM_THREADS); default: barenet's default (1), "
                             "BLAS always gets --threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--libraries", nargs="+", choices=LIBRARIES, default=list(LIBRARIES))
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--worker", nargs=2, metavar=("LIBRARY", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(*args.worker, args.data_dir, args.epochs, args.seed, args.threads[0])))
        return 0

    def environment(threads):
        env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src"),
               **{v: str(threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "NUMBA_NUM_THREADS")}}
        env.pop("BARENET_NUM_THREADS", None)
        if args.pool_threads:
            env["BARENET_NUM_THREADS"] = str(args.pool_threads)
        if args.train_samples:
            env["BENCHMARK_TRAIN_SAMPLES"] = str(args.train_samples)
        return {**env, **keras_environment(threads)}

    libraries = [lib for lib in args.libraries if installed(lib, environment(args.threads[0]))]
    runs, versions = [], {}
    # Libraries take turns, round after round, so a slow spell of the machine hits them alike.
    for round_number, case, threads in ((r, c, t) for r in range(args.repeats) for c in args.cases
                                        for t in args.threads):
        for library in libraries:
            print(f"round {round_number + 1}/{args.repeats}: running {library} {case} at {threads} thread(s) ...",
                  file=sys.stderr, flush=True)
            proc = subprocess.run([sys.executable, __file__, "--worker", library, case, "--data-dir",
                                   str(args.data_dir), "--epochs", str(args.epochs), "--threads", str(threads),
                                   "--seed", str(args.seed)], env=environment(threads), capture_output=True,
                                  text=True)
            if proc.returncode:
                print(f"{library} {case} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            result = {**json.loads(proc.stdout.strip().splitlines()[-1]), "round": round_number}
            versions.update(result["versions"])
            runs.append(result)
    results = [combine([r for r in runs if (r["library"], r["case"], r["threads"]) == key])
               for key in dict.fromkeys((r["library"], r["case"], r["threads"]) for r in runs)]
    threads_text = " ".join(map(str, args.threads))
    report = ["# Benchmark results", "",
              (f"`python benchmarks/benchmark.py --epochs {args.epochs} --repeats {args.repeats} --threads {threads_text}"
               f"{f' --train-samples {args.train_samples}' if args.train_samples else ''}"
               f"{f' --pool-threads {args.pool_threads}' if args.pool_threads else ''}` on "
               f"{time.strftime('%Y-%m-%d')}; Fashion-MNIST, float32, Adam 1e-3, Glorot-uniform init. "
               f"Median of {max(args.epochs - 1, 1) * args.repeats} epoch(s): {args.repeats} round(s) of {args.epochs} "
               f"epoch(s), each round's first epoch a warm-up and left out; libraries take turns. Ratios and "
               f"speed-ups are paired round by round (median, and range over the rounds)."), "",
              *machine_info(threads_text),
              "- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
              "- Libraries not installed (left out): " + (", ".join(sorted(set(args.libraries) - set(libraries))) or "none"),
              "", *table(results), ""]
    text = "\n".join(report)
    print(text)
    Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

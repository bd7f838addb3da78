"""Thread scaling measured inside one process: epochs at 1 and at 2 threads in turns.

    python benchmarks/scaling.py [--cases cnn64 cnnbn64] [--pairs 6] [--train-samples 12800]

`benchmark.py` times each thread count in a process of its own, a minute or more apart, so
on a shared machine whose speed drifts (a cloud machine whose host is busy) its speed-up
compares two moments as much as two thread counts. Here each library still runs in its own
process (one per library and case, the libraries taking turns), but inside it the epochs
alternate between the two thread counts, low-high then high-low, so that the two epochs
of a pair see the machine alike and a steady drift cancels over two pairs. Two warm-up
epochs, one at each count, are left out. It reports each library's median epoch at each
count and the median of the pairs' ratios (low / high): the speed-up.

Threads are switched as each library lets a program switch them: `barenet.config.set_num_threads`
(the compiled kernels' threads; BLAS is held to one thread by the kernels inside `fit`) and
`torch.set_num_threads`. The convolutional cases only: barenet's MLP runs its products on
BLAS's own threads, which a process sets once (`benchmark.py` measures those).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import benchmark
import image_models
import torch_loop

HERE = Path(__file__).resolve().parent
CASES = {name: case for name, case in benchmark.CASES.items() if case["model"].startswith("cnn")}


def schedule(pairs: int, low: int, high: int) -> list[int]:
    """The thread count of each epoch: two warm-ups (high, low), then pairs low-high, high-low, ..."""
    counts = [high, low]
    for pair in range(pairs):
        counts += [low, high] if pair % 2 == 0 else [high, low]
    return counts


def paired(times: list[float], counts: list[int], low: int) -> dict:
    """Medians at each count and the median of the pairs' ratios, the warm-ups left out."""
    measured = list(zip(times, counts))[2:]
    pairs = [measured[i:i + 2] for i in range(0, len(measured) - 1, 2)]
    ratios = [next(t for t, c in pair if c == low) / next(t for t, c in pair if c != low) for pair in pairs]
    return {"low_s": benchmark.median([t for t, c in measured if c == low]),
            "high_s": benchmark.median([t for t, c in measured if c != low]),
            "speedup": benchmark.median(ratios), "ratios": ratios}


def run_barenet(case, data, counts):
    import barenet as bn

    x_train, y_train = data[:2]
    model = image_models.barenet_model(case["model"], 0)
    times = []

    class Switch(bn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            bn.config.set_num_threads(counts[epoch])
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x_train, y_train, epochs=len(counts), batch_size=case["batch_size"], verbose=0, callbacks=[Switch()])
    return times


def run_pytorch(case, data, counts):
    import torch

    model, channels_first = image_models.torch_model(case["model"], 0)
    x_train, y_train = image_models.torch_data(data, channels_first)[:2]
    optimizer, loss_fn = torch_loop.training_parts(model)
    times = []
    for count in counts:
        torch.set_num_threads(count)
        times.append(torch_loop.train_epoch(model, optimizer, loss_fn, x_train, y_train, case["batch_size"]))
    return times


def worker(library, case_name, data_dir, pairs, low, high) -> dict:
    case = CASES[case_name]
    data = benchmark.load_data(Path(data_dir), case["model"])
    counts = schedule(pairs, low, high)
    times = (run_barenet if library == "barenet" else run_pytorch)(case, data, counts)
    return {"library": library, "case": case_name, "times": times, "counts": counts, **paired(times, counts, low)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("BARENET_FASHION_MNIST_DIR", benchmark.DEFAULT_DATA))
    parser.add_argument("--pairs", type=int, default=6, help="pairs of epochs (one at each count) per process")
    parser.add_argument("--repeats", type=int, default=1, help="processes per (library, case), taking turns")
    parser.add_argument("--threads", type=int, nargs=2, default=[1, 2], metavar=("LOW", "HIGH"))
    parser.add_argument("--train-samples", type=int, default=0, help="train on the first N samples only")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=["cnn64", "cnnbn64"])
    parser.add_argument("--libraries", nargs="+", choices=("barenet", "pytorch"), default=["barenet", "pytorch"])
    parser.add_argument("--output", default=str(HERE / "RESULTS-scaling.md"))
    parser.add_argument("--worker", nargs=2, metavar=("LIBRARY", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    low, high = args.threads
    if not 1 <= low < high:
        parser.error(f"--threads takes two counts, the first smaller, both at least 1. Received: {low} {high}")
    if args.pairs < 1 or args.repeats < 1:
        parser.error(f"--pairs and --repeats must be at least 1. Received: {args.pairs} and {args.repeats}")
    if args.worker:
        print(json.dumps(worker(*args.worker, args.data_dir, args.pairs, low, high)))
        return 0

    pools = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src"), **{v: str(high) for v in pools}}
    env.pop("BARENET_NUM_THREADS", None)
    if args.train_samples:
        env["BENCHMARK_TRAIN_SAMPLES"] = str(args.train_samples)
    runs = []
    for round_number in range(args.repeats):
        for case in args.cases:
            for library in args.libraries:
                print(f"round {round_number + 1}/{args.repeats}: {library} {case} ...", file=sys.stderr, flush=True)
                proc = subprocess.run([sys.executable, __file__, "--worker", library, case, "--data-dir",
                                       str(args.data_dir), "--pairs", str(args.pairs), "--threads", str(low),
                                       str(high)], env=env, capture_output=True, text=True)
                if proc.returncode:
                    print(f"{library} {case} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                    continue
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    info = benchmark.machine_info(f"{low} {high}")
    lines = ["# Thread scaling inside one process", "",
             (f"`python benchmarks/scaling.py --pairs {args.pairs} --repeats {args.repeats} --threads {low} {high}"
              f"{f' --train-samples {args.train_samples}' if args.train_samples else ''}` on "
              f"{time.strftime('%Y-%m-%d')}: epochs at {low} and {high} threads in turns in each process (two "
              "warm-ups left out), the libraries in their own processes, taking turns. Speed-up: the median of "
              "the pairs' ratios."), "", info[0], f"- Cores: {os.cpu_count()}", info[2], "",
             f"| case | library | s/epoch at {low} | s/epoch at {high} | speed-up (median of pairs) | pairs' ratios |",
             "|---|---|---:|---:|---:|---|"]
    for case in args.cases:
        for library in args.libraries:
            mine = [r for r in runs if (r["case"], r["library"]) == (case, library)]
            if not mine:
                continue
            ratios = [ratio for r in mine for ratio in r["ratios"]]
            lines.append(f"| {CASES[case]['title']} | {library} | "
                         f"{benchmark.median([r['low_s'] for r in mine]):.2f} | "
                         f"{benchmark.median([r['high_s'] for r in mine]):.2f} | {benchmark.median(ratios):.2f}x | "
                         + " ".join(f"{ratio:.2f}" for ratio in ratios) + " |")
    text = "\n".join(lines + [""])
    print(text)
    Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

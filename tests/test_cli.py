"""The `barenet` command: `cli.main([...])` return codes and output."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import barenet as bn
from barenet import cli

FASHION = Path(os.environ.get("BARENET_FASHION_MNIST_DIR",
                              Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"))


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_with_no_arguments_runs_offline_on_digits(capsys):
    code, out, err = run(capsys, "train", "--verbose", "0")
    assert code == 0, err
    accuracy = float(out.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.95
    assert "Training on digits: 1437 training and 360 test images" in out


def test_train_options_save_evaluate_predict_summary(tmp_path, capsys):
    path = str(tmp_path / "model.bin")
    code, out, err = run(capsys, "train", "--model", "32", "--epochs", "3", "--batch-size", "64",
                         "--optimizer", "sgd", "--lr", "0.05", "--seed", "3", "--output", path, "--verbose", "2")
    assert code == 0, err
    assert out.count("Epoch ") == 3 and "sgd lr=0.05" in out and os.path.exists(path)
    trained_accuracy = float(out.split("test accuracy: ")[1].split()[0])

    code, out, err = run(capsys, "evaluate", path)
    assert code == 0, err
    assert abs(float(out.split("accuracy: ")[1].split()[0]) - trained_accuracy) < 1e-6

    (_, _), (x_test, y_test) = bn.datasets.digits.load_data()
    np.save(tmp_path / "x.npy", (x_test[:5] / 16).astype("float32"))
    code, out, err = run(capsys, "predict", path, str(tmp_path / "x.npy"))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 5 and all(int(line.split("\t")[1]) in range(10) for line in lines)

    code, out, err = run(capsys, "summary", path)
    assert code == 0 and "Total params: 2,410" in out  # 64*32+32 + 32*10+10


def test_predict_image_files(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    path = str(tmp_path / "model.bin")
    assert cli.main(["train", "--epochs", "5", "--output", path, "--verbose", "0"]) == 0
    (_, _), (x_test, y_test) = bn.datasets.digits.load_data()
    files = []
    for i in range(3):
        files.append(str(tmp_path / f"digit{i}.png"))
        Image.fromarray((x_test[i] * 15).astype(np.uint8)).save(files[-1])
    capsys.readouterr()
    code, out, err = run(capsys, "predict", path, *files)
    assert code == 0, err
    assert [line.split("\t")[0] for line in out.strip().splitlines()] == files


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "abc"], "--model must be mlp, cnn or positive layer sizes"),
    (["train", "--epochs", "0"], "--epochs and --batch-size must be positive"),
    (["train", "--lr", "-1"], "--lr must be positive"),
    (["train", "--data-dir", "/tmp"], "--data-dir does not apply to digits"),
    (["evaluate", "/nonexistent/model.bin"], "No model file at"),
    (["summary", "/nonexistent/model.bin"], "No model file at"),
])
def test_errors_are_one_line_without_traceback(argv, message, capsys):
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith("barenet: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_dataset_without_network_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("BARENET_DATA_DIR", raising=False)
    no_network = dataclasses.replace(bn.datasets.mnist.DATASET, mirrors=("http://127.0.0.1:9/",))
    monkeypatch.setattr(bn.datasets.mnist, "DATASET", no_network)
    code, _, err = run(capsys, "train", "--dataset", "mnist")
    assert code == 1 and "Put the files" in err and err.count("\n") == 1


def test_bad_option_and_version(capsys):
    code, _, err = run(capsys, "train", "--dataset", "cifar")
    assert code == 2 and "invalid choice" in err
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"barenet {bn.__version__}"
    assert cli.main([]) == 2


def test_python_dash_m_barenet():
    env = dict(os.environ, PYTHONPATH=str(Path(bn.__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-m", "barenet", "--version"], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stdout.strip() == f"barenet {bn.__version__}"


def test_train_on_fashion_mnist_subset_from_data_dir(capsys, monkeypatch):
    if not all((FASHION / name).exists() for name in bn.datasets.fashion_mnist.FILES):
        pytest.skip(f"Fashion-MNIST IDX files not found in {FASHION}")
    real = cli._load_dataset

    def subset(name, data_dir):  # keep the test fast: 3,000 training images
        x_train, y_train, x_test, y_test = real(name, data_dir)
        return x_train[:3000], y_train[:3000], x_test[:1000], y_test[:1000]

    monkeypatch.setattr(cli, "_load_dataset", subset)
    code, out, err = run(capsys, "train", "--dataset", "fashion-mnist", "--data-dir", str(FASHION),
                         "--epochs", "2", "--verbose", "0")
    assert code == 0, err
    assert float(out.split("test accuracy: ")[1].split()[0]) >= 0.7

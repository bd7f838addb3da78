"""The README's "Coming from the blog" program runs as written and prints the post's lines."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _program() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Coming from the blog", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_posts_final_program_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    exec(compile(_program(), "README.md", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    epochs = re.findall(r"Epoch: (\d+), Time: [\d.]+sec\nTrain Loss: [\d.]+ Train Accuracy: [\d.]+%\n"
                        r"Val Loss: [\d.]+ Val Accuracy: ([\d.]+)% \n", out)
    assert [int(e) for e, _ in epochs] == list(range(10))
    assert float(epochs[-1][1]) >= 85                     # the digits are learned
    assert "Validation samples: 360." in out and out.rstrip().endswith("True")
    assert (tmp_path / "model.json").exists() and (tmp_path / "curves.png").exists()

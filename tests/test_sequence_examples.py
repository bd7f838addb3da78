"""The sequence examples in examples/ run offline in their quick settings and learn.

The full settings (reported in the CHANGELOG) reach the issue's targets: exact sums
>= 0.99 for the LSTM adder, token accuracy >= 0.95 for the transformer.
"""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _main(name):
    return runpy.run_path(str(EXAMPLES / name))["main"]


def test_transformer_learns_to_reverse_sequences():
    assert _main("transformer_reverse.py")(quick=True) >= 0.95


def test_lstm_adder_learns_digits_in_a_short_run():
    result = _main("lstm_addition.py")(quick=True)
    assert result["characters"] >= 0.5  # a constant guess per position scores about 0.36


def test_character_language_model_learns_and_generates():
    result = _main("char_language_model.py")(quick=True)
    assert result["loss"] < 0.85 * result["first_loss"]
    assert result["text"].startswith("the cat ") and len(result["text"]) == 8 + 80

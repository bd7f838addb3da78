"""The sequence cases of `benchmark.py`: an LSTM classifier and a 2-block transformer encoder,
in barenet and PyTorch, on synthetic data (no download; the same arrays for both libraries).

- "lstm": float sequences `(50, 32)` -> LSTM(128) -> Dense(10, softmax); the class is the
  argmax of a fixed projection of the sequence's mean (learnable, not trivial).
- "transformer": token sequences `(64,)` over 1000 tokens -> Embedding(128) + learned
  positions -> 2 post-norm encoder blocks (4-head self-attention, key_dim 32, feed-forward
  256) -> mean over steps -> Dense(10, softmax); the class is the first token modulo 10.

Both libraries: Adam 1e-3, Glorot-uniform kernels, zero biases, dropout off.
"""

from __future__ import annotations

import barenet_loop
import torch_loop

MODELS = ("lstm", "transformer")
STEPS = {"lstm": 50, "transformer": 64}
TRAIN, TEST = 6400, 1280


def make_data(model: str, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    if model == "lstm":
        x = rng.normal(size=(TRAIN + TEST, STEPS["lstm"], 32)).astype("float32")
        y = (x.mean(axis=1) @ rng.normal(size=(32, 10))).argmax(axis=1)
    else:
        x = rng.integers(0, 1000, size=(TRAIN + TEST, STEPS["transformer"])).astype("int64")
        y = x[:, 0] % 10
    y = y.astype("int64")
    return x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:]


def run_barenet(case, data, epochs, seed):
    import numpy as np

    import barenet as bn

    x_train, y_train, x_test, y_test = data
    bn.utils.set_random_seed(seed)
    if case["model"] == "lstm":
        model = bn.Sequential([bn.Input(shape=(STEPS["lstm"], 32)), bn.LSTM(128), bn.Dense(10, "softmax")], seed=seed)
    else:
        tokens = bn.Input(shape=(STEPS["transformer"],), dtype="int64")
        x = bn.Embedding(1000, 128, embeddings_initializer="glorot_uniform")(tokens)
        x = _Positions()(x)
        for _ in range(2):
            x = bn.LayerNormalization(epsilon=1e-5)(x + bn.layers.MultiHeadAttention(4, 32)(x, x))
            hidden = bn.Dense(256, "relu")(x)
            x = bn.LayerNormalization(epsilon=1e-5)(x + bn.Dense(128)(hidden))
        pooled = bn.GlobalAveragePooling1D()(x)
        model = bn.Model(tokens, bn.Dense(10, "softmax")(pooled), seed=seed)
    y_fit = bn.to_categorical(y_train, 10)
    model.compile(bn.optimizers.Adam(1e-3), "categorical_crossentropy")
    times, inference, accuracy = barenet_loop.fit_and_time(model, x_train, y_fit, x_test, y_test,
                                                           case["batch_size"], epochs)
    return times, inference, accuracy, {"barenet": bn.__version__, "numpy": np.__version__}


def _Positions():
    import barenet as bn

    class Positions(bn.Layer):
        def build(self, input_shape):
            self.table = self.add_weight(shape=input_shape[1:], initializer="glorot_uniform", name="positions")

        def call(self, inputs):
            return inputs + self.table

    return Positions()


def run_pytorch(case, data, epochs, seed, threads):
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    model = _TorchLSTM(nn) if case["model"] == "lstm" else _TorchTransformer(nn, torch)
    for name, parameter in model.named_parameters():
        if parameter.dim() >= 2:
            nn.init.xavier_uniform_(parameter)
        elif "bias" in name:
            nn.init.zeros_(parameter)
    times, inference, accuracy = torch_loop.train_and_time(model, x_train, y_train, x_test, y_test,
                                                           case["batch_size"], epochs)
    return times, inference, accuracy, {"torch": torch.__version__, "numpy": np.__version__}


def _TorchLSTM(nn):
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.out = nn.LSTM(32, 128, batch_first=True), nn.Linear(128, 10)

        def forward(self, x):
            return self.out(self.lstm(x)[0][:, -1])

    return Classifier()


def _TorchTransformer(nn, torch):
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(1000, 128)
            self.positions = nn.Parameter(torch.zeros(STEPS["transformer"], 128))
            self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(128, 4, 256, dropout=0.0, batch_first=True)
                                        for _ in range(2))
            self.out = nn.Linear(128, 10)

        def forward(self, tokens):
            x = self.embedding(tokens) + self.positions
            for block in self.blocks:
                x = block(x)
            return self.out(x.mean(dim=1))

    return Encoder()

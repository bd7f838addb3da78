"""The benchmark's image and MLP networks, built alike in barenet and PyTorch (`benchmark.py`,
`scaling.py`): the same layers, Glorot-uniform kernels and zero biases, Keras's
BatchNormalization defaults; PyTorch's convolutions take channels-first images.

Models: "mlp" (784-128-10), "resmlp" (a functional residual MLP), "cnn" (C32-P-C64-P-D128-D10),
"cnnbn" (the CNN with BatchNormalization and Dropout after each conv block), "cnnrgb" (a
CIFAR-sized CNN on 32 x 32 x 3 images). Everything compiles with Adam 1e-3 and sparse
categorical cross-entropy.
"""

from __future__ import annotations


def barenet_model(kind: str, seed: int):
    """The compiled barenet model of `kind`."""
    import barenet as bn

    if kind == "resmlp":
        bn.utils.set_random_seed(seed)
        inputs = bn.Input(shape=(784,))
        hidden = bn.Dense(128, "relu")(inputs)
        outputs = bn.Dense(10, "softmax")(hidden + bn.Dense(128, "relu")(hidden))
        model = bn.Model(inputs, outputs, seed=seed)
    elif kind == "mlp":
        model = bn.Sequential([bn.Dense(128, "relu", input_dim=784), bn.Dense(10, "softmax")], seed=seed)
    elif kind == "cnnbn":
        model = bn.Sequential([bn.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), bn.BatchNormalization(),
                               bn.MaxPooling2D(2), bn.Dropout(0.25),
                               bn.Conv2D(64, 3, activation="relu"), bn.BatchNormalization(), bn.MaxPooling2D(2),
                               bn.Dropout(0.25), bn.Flatten(), bn.Dense(128, "relu"), bn.Dense(10, "softmax")],
                              seed=seed)
    elif kind == "cnnrgb":
        model = bn.Sequential([bn.Conv2D(32, 3, padding="same", activation="relu", input_shape=(32, 32, 3)),
                               bn.Conv2D(64, 3, padding="same", activation="relu"), bn.MaxPooling2D(2),
                               bn.Conv2D(64, 3, padding="same", activation="relu"), bn.MaxPooling2D(2), bn.Flatten(),
                               bn.Dense(10, "softmax")], seed=seed)
    else:
        model = bn.Sequential([bn.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), bn.MaxPooling2D(2),
                               bn.Conv2D(64, 3, activation="relu"), bn.MaxPooling2D(2), bn.Flatten(),
                               bn.Dense(128, "relu"), bn.Dense(10, "softmax")], seed=seed)
    model.compile(bn.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def torch_model(kind: str, seed: int):
    """`(module, channels_first)`: the PyTorch network of `kind` (logits out; the loss applies the
    softmax), and whether it takes channels-first images (see `torch_data`)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    channels_first = kind.startswith("cnn")
    if kind == "resmlp":
        model = _residual_mlp(nn)
    elif kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    elif kind == "cnnbn":  # Keras's BatchNormalization defaults: momentum 0.99 is torch's 0.01
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.BatchNorm2d(32, 1e-3, 0.01), nn.MaxPool2d(2),
                              nn.Dropout(0.25), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.BatchNorm2d(64, 1e-3, 0.01),
                              nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(),
                              nn.Linear(128, 10))
    elif kind == "cnnrgb":
        model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 8 * 8, 10))
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return model, channels_first


def torch_data(data, channels_first: bool):
    """The NumPy arrays `(x_train, y_train, x_test, y_test)` as tensors, images channels-first
    where the network takes them so."""
    import torch

    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    if channels_first:
        x_train, x_test = x_train.permute(0, 3, 1, 2).contiguous(), x_test.permute(0, 3, 1, 2).contiguous()
    return x_train, y_train, x_test, y_test


def _residual_mlp(nn):
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.first, self.second, self.out = nn.Linear(784, 128), nn.Linear(128, 128), nn.Linear(128, 10)

        def forward(self, x):
            hidden = self.first(x).relu()
            return self.out(hidden + self.second(hidden).relu())

    return Residual()

"""The PyTorch side's training loop, shared by every benchmark case (see benchmark.py)."""

from __future__ import annotations

import time


def train_and_time(model, x_train, y_train, x_test, y_test, batch_size: int, epochs: int):
    """Adam 1e-3 (epsilon 1e-7, as Keras), cross-entropy on logits, shuffled batches: the seconds of
    each epoch, the seconds of inference over `x_test`, and the test accuracy."""
    import torch

    optimizer, loss_fn = training_parts(model)
    times = [train_epoch(model, optimizer, loss_fn, x_train, y_train, batch_size) for _ in range(epochs)]
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        logits = torch.cat([model(x_test[i:i + batch_size]) for i in range(0, len(x_test), batch_size)])
    inference = time.perf_counter() - start
    return times, inference, float((logits.argmax(dim=1) == y_test).float().mean())


def training_parts(model):
    """`(optimizer, loss)`: Adam 1e-3 with Keras's epsilon 1e-7, and cross-entropy on logits."""
    import torch
    from torch import nn

    return torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7), nn.CrossEntropyLoss()


def train_epoch(model, optimizer, loss_fn, x_train, y_train, batch_size: int) -> float:
    """One epoch of shuffled batches; its seconds."""
    import torch

    start = time.perf_counter()
    model.train()
    order = torch.randperm(len(x_train))
    for i in range(0, len(x_train), batch_size):
        idx = order[i:i + batch_size]
        optimizer.zero_grad()
        loss_fn(model(x_train[idx]), y_train[idx]).backward()
        optimizer.step()
    return time.perf_counter() - start

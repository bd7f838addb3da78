"""Train small models under `barenet.distributed` and save rank 0's results (run by tests/test_distributed.py).

Usage: python equivalence.py OUT.npz   (alone, or under `mpiexec -n 2`)
"""

import sys

import numpy as np

import barenet as bn
from barenet.layers import BatchNormalization, Conv2D, Flatten, MaxPooling2D
from barenet.seeding import set_random_seed

strategy = bn.distributed.initialize(verbose=False)
rng = np.random.default_rng(7)
x = rng.normal(size=(101, 6))                       # 101 rows: the last batch of 16 splits 3 + 2
y = (x[:, :3].sum(axis=1) > 0).astype(np.int64)
images = rng.normal(size=(36, 6, 6, 1))
image_labels = rng.integers(0, 3, size=36)


def mlp(dtype="float64"):
    return bn.Sequential([bn.Dense(8, "tanh", input_dim=6), bn.Dense(2, "softmax")], seed=1, dtype=dtype)


def dropout_mlp():
    return bn.Sequential([bn.Dense(8, "tanh", input_dim=6), bn.layers.Dropout(0.3), bn.Dense(2, "softmax")], seed=4,
                         dtype="float64")


def cnn():
    return bn.Sequential([Conv2D(3, 3, padding="same", use_bias=False, input_shape=(6, 6, 1)), BatchNormalization(synchronized=True),
                          MaxPooling2D(2), Flatten(), bn.Dense(3, "softmax")],
                         seed=2, dtype="float64")


def functional():
    set_random_seed(3)  # a functional graph's layers are built before the model exists
    inputs = bn.Input((6,), dtype="float64")
    hidden = bn.Dense(5, "relu")(inputs)
    both = bn.layers.Concatenate()([hidden, bn.Dense(3, "tanh")(inputs)])
    return bn.Model(inputs, bn.Dense(2, "softmax")(both), seed=3, dtype="float64")


results = {}
cases = [("mlp_sgd", mlp, bn.optimizers.SGD(0.1, momentum=0.9), x, y, 16, {"validation_split": 0.2}),
         ("mlp_adam", mlp, bn.optimizers.Adam(0.01), x, y, 16,  # lr halved after epoch 2: none improves by 10
          {"callbacks": [bn.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10)]}),
         ("cnn_bn_adam", cnn, bn.optimizers.Adam(0.01), images, image_labels, 8, {}),
         ("functional_sgd", functional, bn.optimizers.SGD(0.05), x, y, 10, {}),
         ("dropout_mlp_sgd", dropout_mlp, bn.optimizers.SGD(0.1), x, y, 16, {}),  # each process: its rows' masks
         ("float32_mlp_adam", lambda: mlp("float32"), bn.optimizers.Adam(0.01), x, y, 16, {}),
         ("weighted_mlp_sgd", mlp, bn.optimizers.SGD(0.1), x, y, 16, {"sample_weight": rng.random(len(x))})]
for name, build, optimizer, data, labels, batch_size, extra in cases:
    model = build()
    model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(data, labels, epochs=3, batch_size=batch_size, verbose=0, **extra)
    for i, weight in enumerate(model.get_weights()):
        results[f"{name}/weight{i}"] = weight
    for layer in model.weight_layers():
        for key, value in layer.state.items():
            results[f"{name}/{layer.name}/{key}"] = value
    for key, values in history.history.items():
        results[f"{name}/history/{key}"] = np.array(values)
    # every replica holds the same weights, bit for bit (0 for one process)
    replicas = strategy.communicator.gather_objects(model.get_weights()) if strategy.size > 1 else []
    results[f"{name}/replica_gap"] = np.array(max([float(np.max(np.abs(a - b))) for other in replicas[1:]
                                                   for a, b in zip(replicas[0], other)], default=0.0))
if strategy.is_chief:
    np.savez(sys.argv[1], **results)

"""fit's data: arrays (memmap kept lazy), validation_split, generators, iterables, PyDataset,
steps_per_epoch, class_weight and sample_weight, and the errors for bad data."""

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import barenet as bn
from barenet import data_adapters, training
from barenet.data_adapters import ArrayAdapter, EpochIterator, make_adapter

WEIGHTED = "sample_weight" in __import__("inspect").signature(training.train_step).parameters
needs_weighted_step = pytest.mark.skipif(not WEIGHTED, reason="the weighted training step (h-metrics) is not merged")


def make_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, bn.to_categorical(labels, 3), labels


def make_model(seed=0, metrics=("accuracy",)):
    model = bn.Sequential([bn.Dense(8, "relu", input_dim=4), bn.Dense(3, "softmax")], seed=seed)
    model.compile(bn.optimizers.SGD(0.1), "categorical_crossentropy", list(metrics))
    return model


class Batches(bn.utils.PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


def batch_list(x, y, batch_size):
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


# --- arrays ---------------------------------------------------------------------------------------
def test_validation_split_holds_out_the_last_rows():
    x, y, _ = make_data(n=40)
    model = make_model()
    adapter = make_adapter(model, x, y, batch_size=8, shuffle=True)
    held = adapter.split(0.25)
    assert adapter.n == 30 and held.n == 10 and not held.shuffle
    (xs, ys, _), = list(ArrayAdapter.batches(held, None))[:1]  # first validation batch
    np.testing.assert_array_equal(xs[0], x[30:38])
    np.testing.assert_array_equal(ys[0], y[30:38])
    # In fit: the validation loss is the loss on exactly the last 10 rows.
    model = make_model()
    history = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, verbose=0)
    held_out = model.evaluate(x[30:], y[30:], verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["val_loss"][0], held_out["loss"], rtol=1e-6)


def test_validation_split_too_small_and_for_generators():
    x, y, _ = make_data(n=1)
    with pytest.raises(ValueError, match="too few to split.*validation_split=0.2"):
        make_model().fit(x, y, validation_split=0.2, verbose=0)
    x, y, _ = make_data()
    with pytest.raises(ValueError, match="`validation_split` is only supported for arrays"):
        make_model().fit(Batches(x, y, 16), validation_split=0.2, verbose=0)


def test_shuffle_draws_from_the_model_generator_and_covers_every_row():
    x, y, _ = make_data(n=20)
    model = make_model()
    adapter = make_adapter(model, x, y, batch_size=6, shuffle=True)
    rows = np.concatenate([xs[0] for xs, _, _ in adapter.batches(np.random.default_rng(3))])
    order = np.random.default_rng(3).permutation(20)
    np.testing.assert_array_equal(rows, x[order])
    batch = make_adapter(model, x, y, batch_size=6, shuffle="batch")
    rows = np.concatenate([xs[0] for xs, _, _ in batch.batches(np.random.default_rng(0))])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))


def test_memmap_is_never_copied_whole(tmp_path):
    n, features = 40_000, 100  # 32 MB of float64 on disk
    path = tmp_path / "x.npy"
    source = np.lib.format.open_memmap(path, mode="w+", dtype="float64", shape=(n, features))
    for start in range(0, n, 4000):
        source[start:start + 4000] = np.random.default_rng(start).normal(size=(4000, features))
    source.flush()
    del source
    x = np.load(path, mmap_mode="r")
    y = (np.asarray(x[:, 0]) > 0).astype("float32")[:, None]
    model = bn.Sequential([bn.Dense(1, "sigmoid", input_dim=features)], seed=0)
    model.compile(bn.optimizers.SGD(0.01), "binary_crossentropy")
    tracemalloc.start()
    model.fit(x, y, epochs=1, batch_size=256, steps_per_epoch=20, verbose=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < x.nbytes / 4, f"peak {peak / 1e6:.1f} MB for a {x.nbytes / 1e6:.0f} MB array"
    assert isinstance(x, np.memmap)


def test_memmap_and_in_memory_arrays_train_alike(tmp_path):
    x, y, _ = make_data()
    path = tmp_path / "x.npy"
    np.save(path, x.astype("float64"))
    a, b = make_model(), make_model()
    a.fit(x.astype("float64"), y, epochs=2, batch_size=16, verbose=0)
    b.fit(np.load(path, mmap_mode="r"), y, epochs=2, batch_size=16, verbose=0)
    assert_same_weights(a, b)


def test_non_finite_values_found_in_a_later_chunk(monkeypatch):
    monkeypatch.setattr(data_adapters.arrays, "CHUNK_ELEMENTS", 16)
    x, y, _ = make_data()
    x[50, 2] = np.nan
    model = make_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="`x` contains NaN or inf"):
        model.fit(x, y, verbose=0)
    assert_same_weights_list(before, model.get_weights())


def assert_same_weights_list(a, b):
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


def test_dict_of_named_inputs():
    x, y, _ = make_data()
    trained = []
    for data in ({"b": x[:, 2:], "a": x[:, :2]}, [x[:, :2], x[:, 2:]]):
        a, b = bn.Input((2,), name="a"), bn.Input((2,), name="b")
        model = bn.Model([a, b], bn.Dense(3, "softmax")(bn.layers.Concatenate()([a, b])), seed=0)
        model.set_weights([np.full_like(w, 0.1) for w in model.get_weights()])
        model.compile(bn.optimizers.SGD(0.1), "categorical_crossentropy")
        model.fit(data, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
        trained.append(model.get_weights())
    assert_same_weights_list(*trained)
    assert not np.allclose(trained[0][0], 0.1)


# --- sample and class weights ---------------------------------------------------------------------
def test_class_weight_gives_the_same_batches_as_explicit_sample_weight():
    x, y, labels = make_data()
    model = make_model()
    class_weight = {0: 0.5, 1: 2.0, 2: 4.0}
    by_class = make_adapter(model, x, y, class_weight=class_weight, batch_size=16)
    explicit = make_adapter(model, x, y, sample_weight=np.array([class_weight[c] for c in labels]), batch_size=16)
    for (xa, ya, wa), (xb, yb, wb) in zip(by_class.batches(None), explicit.batches(None)):
        np.testing.assert_array_equal(wa, wb)
        assert wa.dtype == np.float32 and len(wa) == len(xa[0])
    sparse = bn.Sequential([bn.Dense(3, "softmax", input_dim=4)], seed=0)
    sparse.compile("sgd", "sparse_categorical_crossentropy")
    (_, _, w), *_ = make_adapter(sparse, x, labels, class_weight={2: 3.0}, batch_size=64).batches(None)
    np.testing.assert_array_equal(w, np.where(labels == 2, 3.0, 1.0))  # a missing class weighs 1 (Keras 3)


@needs_weighted_step
def test_class_weight_trains_like_explicit_sample_weight():
    x, y, labels = make_data()
    class_weight = {0: 0.5, 1: 2.0, 2: 4.0}
    a, b = make_model(), make_model()
    a.fit(x, y, epochs=2, batch_size=16, class_weight=class_weight, verbose=0)
    b.fit(x, y, epochs=2, batch_size=16, sample_weight=np.array([class_weight[c] for c in labels]), verbose=0)
    assert_same_weights(a, b)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"class_weight": {0: 1.0, 3: 2.0}}, ValueError, "unknown class 3.*0 .. 2"),
    ({"class_weight": {"a": 1.0}}, ValueError, "unknown class 'a'"),
    ({"class_weight": {0: -1.0}}, ValueError, r"`class_weight\[0\]` must be a finite non-negative number"),
    ({"class_weight": [1.0, 2.0]}, TypeError, "`class_weight` must be a dict"),
    ({"sample_weight": np.ones(10)}, ValueError, r"one weight per sample \(64\). Received: 10"),
    ({"sample_weight": -np.ones(64)}, ValueError, "`sample_weight` must not be negative"),
    ({"sample_weight": np.full(64, np.nan)}, ValueError, "`sample_weight` contains NaN"),
    ({"sample_weight": np.ones(64), "class_weight": {0: 1.0}}, ValueError, "not both"),
    ({"steps_per_epoch": 0}, ValueError, "`steps_per_epoch` must be a positive integer"),
    ({"validation_freq": 0}, ValueError, "`validation_freq` must be a positive integer or a list"),
    ({"initial_epoch": -1}, ValueError, "`initial_epoch` must be a non-negative integer"),
    ({"shuffle": "rows"}, ValueError, "`shuffle` must be True, False or 'batch'"),
    ({"validation_data": (np.zeros((2, 4)),)}, ValueError, "`validation_data` must be a tuple"),
])
def test_bad_weights_and_arguments_raise_before_anything_changes(kwargs, error, match):
    x, y, _ = make_data()
    model = make_model()
    before, state = model.get_weights(), model.rng.bit_generator.state
    with pytest.raises(error, match=match):
        model.fit(x, y, verbose=0, **kwargs)
    assert_same_weights_list(before, model.get_weights())
    assert model.rng.bit_generator.state == state


def test_class_weight_needs_a_single_output():
    inp = bn.Input((4,))
    model = bn.Model(inp, [bn.Dense(3, "softmax")(inp), bn.Dense(3, "softmax")(inp)], seed=0)
    model.compile("sgd", "categorical_crossentropy")
    x, y, _ = make_data()
    with pytest.raises(ValueError, match="single output"):
        model.fit(x, [y, y], class_weight={0: 1.0}, verbose=0)


# --- generators, iterables, PyDataset -------------------------------------------------------------
def test_pydataset_list_of_batches_and_arrays_give_the_same_weights():
    x, y, _ = make_data()
    reference = make_model()
    reference.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    dataset = Batches(x, y, 16)
    from_dataset = make_model()
    history = from_dataset.fit(dataset, epochs=3, shuffle=False, verbose=0)
    assert dataset.epochs_ended == 3 and history.epoch == [0, 1, 2]
    from_list = make_model()
    from_list.fit(batch_list(x, y, 16), epochs=3, verbose=0)
    assert_same_weights(reference, from_dataset)
    assert_same_weights(reference, from_list)


def test_generator_with_steps_per_epoch_streams_across_epochs():
    x, y, _ = make_data()

    def endless():
        while True:
            yield from batch_list(x, y, 16)

    reference = make_model()
    reference.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    model = make_model()
    history = model.fit(endless(), epochs=4, steps_per_epoch=2, verbose=0)  # 4 x 2 batches = 2 passes
    assert history.epoch == [0, 1, 2, 3]
    assert_same_weights(reference, model)


def test_steps_per_epoch_on_arrays_continues_the_pass():
    x, y, _ = make_data()
    reference = make_model()
    reference.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=16, steps_per_epoch=2, shuffle=False, verbose=0)
    assert_same_weights(reference, model)


def test_finite_generator_runs_out_with_keras_warning():
    x, y, _ = make_data()
    model = make_model()
    with pytest.warns(RuntimeWarning, match="ran out of data"):
        history = model.fit((b for b in batch_list(x, y, 16)), epochs=5, steps_per_epoch=3, verbose=0)
    assert history.epoch == [0, 1]  # 4 batches: epoch 1 full, epoch 2 short, then stop
    with pytest.warns(RuntimeWarning, match="ran out of data"):
        history = model.fit((b for b in batch_list(x, y, 16)), epochs=5, steps_per_epoch=2, verbose=0)
    assert history.epoch == [0, 1] and "ran out of data before epoch 3" in history.stop_reason


def test_endless_generator_without_steps_per_epoch_is_refused():
    x, y, _ = make_data()

    def endless():
        while True:
            yield x[:8], y[:8]

    model = make_model()
    with pytest.raises(ValueError, match="`steps_per_epoch` is required.*generator"):
        model.fit(endless(), epochs=2, verbose=0)
    with pytest.raises(ValueError, match="`validation_steps` is required"):
        model.fit(x, y, validation_data=endless(), verbose=0)
    assert model.history is None


@pytest.mark.parametrize("batch, match", [
    ((np.zeros((4, 4)),), r"Batch 0 of `x` must be a tuple \(x, y\).*element 1 \(y\) is missing"),
    ((np.zeros((4, 4)), np.zeros((4, 3)), np.ones(4), 1), r"Batch 0 of `x`.*Received: a tuple of 4 elements"),
    ((np.zeros((4, 5)), np.zeros((4, 3))), r"element 0 of batch 0 of `x`.*expects \(4,\)"),
    ((np.zeros((4, 4)), np.zeros((4, 2))), r"element 1 of batch 0 of `x`.*produces \(3,\)"),
    ((np.zeros((4, 4)), np.zeros((4, 3)), -np.ones(4)), r"sample_weight \(element 2 of batch 0.*must not be negative"),
    ((np.array([["a"] * 4] * 4), np.zeros((4, 3))), r"element 0 of batch 0 of `x`.*numeric array"),
])
def test_generator_batches_with_the_wrong_structure_name_the_element(batch, match):
    model = make_model()
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit((b for b in [batch]), steps_per_epoch=1, verbose=0)


def test_generator_rejects_y_and_sample_weight_arguments():
    x, y, _ = make_data()
    with pytest.raises(ValueError, match="`y` must not be given when `x` is a generator"):
        make_model().fit(Batches(x, y, 16), y, verbose=0)


def test_pydataset_shuffle_uses_the_model_generator_for_the_batch_order():
    x, y, _ = make_data()
    model = make_model()
    adapter = make_adapter(model, Batches(x, y, 16), shuffle=True)
    firsts = [xs[0][0] for xs, _, _ in adapter.batches(np.random.default_rng(5))]
    order = np.random.default_rng(5).permutation(4)
    np.testing.assert_array_equal(np.array(firsts), x[order * 16])


def test_epoch_iterator_counts():
    x, y, _ = make_data(n=50)
    model = make_model()
    adapter = make_adapter(model, x, y, batch_size=16)
    assert EpochIterator(adapter).num_steps == 4 and EpochIterator(adapter, 7).num_steps == 7
    assert EpochIterator(make_adapter(model, (b for b in []), role="predict")).num_steps is None


def test_evaluate_and_predict_take_generators_and_datasets():
    x, y, _ = make_data()
    model = make_model()
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    got = model.evaluate(Batches(x, y, 16), verbose=0, return_dict=True)
    assert got.keys() == want.keys()
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-6)
    np.testing.assert_allclose(model.predict((b[0] for b in batch_list(x, y, 10)), verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, steps=2, batch_size=8, verbose=0), model.predict(x[:16], verbose=0),
                               rtol=1e-6)


def test_shards_of_a_global_batch_partition_it():
    x, y, _ = make_data(n=20)
    model = make_model()
    whole = list(ArrayAdapter(model, x, y, batch_size=8, shuffle=True).batches(np.random.default_rng(2)))
    parts = [list(ArrayAdapter(model, x, y, batch_size=8, shuffle=True, shard=(i, 2)).batches(np.random.default_rng(2)))
             for i in range(2)]
    for (xs, _, _), (xa, _, _), (xb, _, _) in zip(whole, *parts):
        np.testing.assert_array_equal(np.concatenate([xa[0], xb[0]]), xs[0])
        assert abs(len(xa[0]) - len(xb[0])) <= 1


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), shuffle=st.sampled_from([False, True, "batch"]),
       seed=st.integers(0, 2**16))
def test_every_row_once_per_pass_with_its_own_target(n, batch_size, shuffle, seed):
    x = np.arange(n * 4, dtype="float32").reshape(n, 4)
    y = bn.to_categorical(np.arange(n) % 3, 3)
    adapter = make_adapter(MODEL, x, y, sample_weight=np.arange(n, dtype=float), batch_size=batch_size,
                           shuffle=shuffle)
    batches = list(adapter.batches(np.random.default_rng(seed)))
    assert len(batches) == adapter.num_batches == -(-n // batch_size)
    rows = np.concatenate([xs[0][:, 0] // 4 for xs, _, _ in batches]).astype(int)
    assert sorted(rows) == list(range(n))
    for xs, ys, weight in batches:
        index = (xs[0][:, 0] // 4).astype(int)
        np.testing.assert_array_equal(ys[0], y[index])
        np.testing.assert_array_equal(weight, index)


MODEL = make_model()

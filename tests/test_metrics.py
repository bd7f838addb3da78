"""Stateful metrics: golden values from their formulas, exact epoch values over uneven batches,
additive state across shards, configuration and `metrics.get`."""

import numpy as np
import pytest

from barenet import metrics


def _update(metric, y, p, w=None, batches=(None,)):
    """Feed `(y, p, w)` to `metric` in consecutive batches whose sizes are `batches` (None: one batch)."""
    start = 0
    for size in batches:
        rows = slice(start, None if size is None else start + size)
        metric.update_state(y[rows], p[rows], None if w is None else w[rows])
        start = rows.stop or 0
    return metric.result()


def test_accuracy_family_golden_values():
    y_sparse = np.array([0, 2, 1, 1])
    p = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]])
    w = np.array([1.0, 2.0, 3.0, 0.5])
    hits = np.array([1, 1, 0, 0])
    assert metrics.SparseCategoricalAccuracy()(y_sparse, p) == pytest.approx(0.5)
    assert metrics.SparseCategoricalAccuracy()(y_sparse, p, w) == pytest.approx((w * hits).sum() / w.sum())
    assert metrics.CategoricalAccuracy()(np.eye(3)[y_sparse], p) == pytest.approx(0.5)
    assert metrics.Accuracy()(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == pytest.approx(0.75)
    # top-2: sample 2's label 1 scores 0.4 (2nd), sample 3's label 1 ties 0.2 with class 0 below 0.6 -> in
    assert metrics.SparseTopKCategoricalAccuracy(k=2)(y_sparse, p) == pytest.approx(1.0)
    assert metrics.TopKCategoricalAccuracy(k=1)(np.eye(3)[y_sparse], p) == pytest.approx(0.5)
    assert metrics.SparseTopKCategoricalAccuracy(k=1)(np.array([2]), np.array([[0.1, 0.5, 0.4]])) == 0.0
    # binary: y_pred > threshold against the labels, averaged over outputs then samples
    yb, pb = np.array([[1, 0], [0, 0]]), np.array([[0.7, 0.6], [0.2, 0.4]])
    assert metrics.BinaryAccuracy()(yb, pb) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy(threshold=0.65)(yb, pb) == pytest.approx(1.0)


def test_accuracy_string_picks_its_kind_from_shapes_as_keras():
    p3 = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    assert metrics.get("accuracy")(np.array([1, 1]), p3) == pytest.approx(0.5)           # sparse
    assert metrics.get("acc")(np.array([[1], [0]]), p3) == pytest.approx(1.0)            # sparse (b, 1)
    assert metrics.get("accuracy")(np.eye(3)[[1, 0]], p3) == pytest.approx(1.0)          # categorical
    assert metrics.get("accuracy")(np.array([[1.0], [0.0]]), np.array([[0.9], [0.7]])) == pytest.approx(0.5)
    assert metrics.get("acc").name == "acc"


def test_regression_metrics_golden_values():
    y = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    p = np.array([[1.5, 2.0], [2.0, 5.0], [0.0, 3.0]])
    w = np.array([1.0, 0.0, 2.0])
    se = ((p - y) ** 2).mean(axis=1)
    ae = np.abs(p - y).mean(axis=1)
    assert metrics.MeanSquaredError()(y, p) == pytest.approx(se.mean())
    assert metrics.MeanSquaredError()(y, p, w) == pytest.approx((w * se).sum() / w.sum())
    assert metrics.MeanAbsoluteError()(y, p, w) == pytest.approx((w * ae).sum() / w.sum())
    assert metrics.RootMeanSquaredError()(y, p, w) == pytest.approx(np.sqrt((w * se).sum() / w.sum()))
    assert metrics.RootMeanSquaredError()(y, p) == pytest.approx(np.sqrt(se.mean()))
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 6.0], sample_weight=[1.0, 1.0, 2.0])
    assert mean.result() == pytest.approx(15 / 4)


@pytest.mark.parametrize("name, loss", [
    ("msle", "msle"), ("logcosh", "log_cosh"), ("kld", "kl_divergence"), ("poisson", "poisson"),
    ("hinge", "hinge"), ("squared_hinge", "squared_hinge"), ("categorical_hinge", "categorical_hinge"),
    ("bce", "binary_crossentropy"), ("categorical_crossentropy", "categorical_crossentropy"),
])
def test_loss_metrics_are_weighted_means_of_the_per_sample_losses(name, loss, rng):
    from barenet import losses

    y = np.eye(3)[rng.integers(0, 3, 8)]
    p = rng.dirichlet(np.ones(3), 8)
    w = rng.uniform(0, 2, 8)
    per_sample = losses.get(loss).call(y, p)
    assert metrics.get(name)(y, p, w) == pytest.approx(np.sum(w * per_sample) / w.sum(), rel=1e-12)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    cosines = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert metrics.CosineSimilarity()(a, b) == pytest.approx(cosines.mean())


@pytest.fixture
def binary_data(rng):
    y = rng.integers(0, 2, 101)
    p = np.clip(0.35 * y + rng.uniform(0, 0.65, 101), 0, 1)
    w = rng.uniform(0, 3, 101)
    return y, p, w


def test_confusion_counts_precision_recall_match_their_definitions(binary_data):
    y, p, w = binary_data
    for threshold in (0.3, 0.5, 0.8):
        above = p > threshold
        tp, fp = (w * (above & (y == 1))).sum(), (w * (above & (y == 0))).sum()
        fn, tn = (w * (~above & (y == 1))).sum(), (w * (~above & (y == 0))).sum()
        assert metrics.TruePositives(threshold)(y, p, w) == pytest.approx(tp)
        assert metrics.FalsePositives(threshold)(y, p, w) == pytest.approx(fp)
        assert metrics.FalseNegatives(threshold)(y, p, w) == pytest.approx(fn)
        assert metrics.TrueNegatives(threshold)(y, p, w) == pytest.approx(tn)
        assert metrics.Precision(threshold)(y, p, w) == pytest.approx(tp / (tp + fp))
        assert metrics.Recall(threshold)(y, p, w) == pytest.approx(tp / (tp + fn))
    several = metrics.Recall(thresholds=[0.8, 0.3, 0.5])(y, p)
    expected = [((p > t) & (y == 1)).sum() / (y == 1).sum() for t in (0.8, 0.3, 0.5)]
    np.testing.assert_allclose(several, expected)
    # a score equal to the threshold is not above it
    assert metrics.TruePositives(0.5)(np.array([1]), np.array([0.5])) == 0.0
    assert metrics.Precision()(np.array([0, 0]), np.array([0.1, 0.2])) == 0.0  # nothing predicted positive


def test_precision_recall_top_k_and_class_id():
    y = np.array([[0, 1, 1, 0], [1, 0, 0, 0]])
    p = np.array([[0.9, 0.8, 0.7, 0.1], [0.6, 0.65, 0.2, 0.7]])
    # top-2 per row: row 0 -> classes 0, 1 (1 hit); row 1 -> classes 3, 1 (no hit)
    assert metrics.Precision(top_k=2)(y, p) == pytest.approx(1 / 4)
    assert metrics.Recall(top_k=2)(y, p) == pytest.approx(1 / 3)
    # class 1 alone: scores (0.8, 0.65) against labels (1, 0)
    assert metrics.Precision(class_id=1)(y, p) == pytest.approx(1 / 2)
    assert metrics.Recall(class_id=0, thresholds=0.5)(y, p) == pytest.approx(1.0)
    assert metrics.Precision(top_k=1, class_id=1)(y, p) == 0.0


def _f1_by_hand(y, pred, w):
    w = w[:, None]
    tp, fp = (pred * y * w).sum(0), (pred * (1 - y) * w).sum(0)
    fn = ((1 - pred) * y * w).sum(0)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall), tp, fp, fn, (y * w).sum(0)


def test_f1_score_averages(rng):
    labels = rng.integers(0, 3, 60)
    y = np.eye(3)[labels]
    p = rng.uniform(size=(60, 3)) + 0.6 * y
    w = rng.uniform(0.5, 2, 60)
    pred = (p == p.max(axis=1, keepdims=True)).astype(float)
    per_class, tp, fp, fn, support = _f1_by_hand(y, pred, w)
    np.testing.assert_allclose(metrics.F1Score()(y, p, w), per_class, rtol=1e-5)
    assert metrics.F1Score(average="macro")(y, p, w) == pytest.approx(per_class.mean(), rel=1e-5)
    assert metrics.F1Score(average="weighted")(y, p, w) == pytest.approx(
        (per_class * support).sum() / support.sum(), rel=1e-5)
    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())
    assert metrics.F1Score(average="micro")(y, p, w) == pytest.approx(micro, rel=1e-5)
    thresholded = (p > 0.7).astype(float)
    np.testing.assert_allclose(metrics.F1Score(threshold=0.7)(y, p, w), _f1_by_hand(y, thresholded, w)[0], rtol=1e-5)
    beta2 = metrics.FBetaScore(beta=2.0)(y, p, w)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    np.testing.assert_allclose(beta2, 5 * precision * recall / (4 * precision + recall), rtol=1e-5)


def test_roc_auc_is_exact_when_scores_fall_between_thresholds(rng):
    # Scores at bin centres of the 200 thresholds: the curve passes through every ROC point,
    # so the trapezoidal area equals the Mann-Whitney probability (ties count one half).
    y = rng.integers(0, 2, 300)
    bins = np.clip(rng.integers(0, 199, 300) + 60 * y, 0, 198)
    p = (bins + 0.5) / 199
    w = rng.uniform(0.5, 2, 300)
    pos, neg = p[y == 1], p[y == 0]
    wp, wn = w[y == 1], w[y == 0]
    pairs = wp[:, None] * wn[None, :]
    mann_whitney = (pairs * ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))).sum() / pairs.sum()
    assert metrics.AUC()(y, p, w) == pytest.approx(mann_whitney, rel=1e-9)
    assert metrics.AUC(from_logits=True)(y, np.log(p / (1 - p)), w) == pytest.approx(mann_whitney, rel=1e-9)
    assert metrics.AUC()(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)


def test_pr_auc_riemann_sums_and_interpolation(rng):
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.1])
    thresholds = [0.2, 0.5, 0.75]
    m = metrics.AUC(thresholds=thresholds, curve="PR", summation_method="minoring")
    m.update_state(y, p)
    tp, fp, fn = m.true_positives, m.false_positives, m.false_negatives
    precision = np.divide(tp, tp + fp, out=np.zeros(5), where=(tp + fp) > 0)
    recall = tp / (tp + fn)
    widths = recall[:-1] - recall[1:]
    assert m.result() == pytest.approx(np.sum(widths * np.minimum(precision[:-1], precision[1:])))
    major = metrics.AUC(thresholds=thresholds, curve="PR", summation_method="majoring")
    assert major(y, p) == pytest.approx(np.sum(widths * np.maximum(precision[:-1], precision[1:])))
    # interpolation: integrate precision over recall along tp linear in the predicted-positive count
    interpolated = metrics.AUC(thresholds=thresholds, curve="PR")(y, p)
    area = 0.0
    for i in range(4):
        if tp[i] == tp[i + 1]:
            continue
        # (from zero predicted positives the line runs through the origin: precision stays tp/count)
        count = np.linspace(max(tp[i + 1] + fp[i + 1], 1e-9), tp[i] + fp[i], 20001)
        hits = np.interp(count, [tp[i + 1] + fp[i + 1], tp[i] + fp[i]], [tp[i + 1], tp[i]])
        area += np.trapezoid(hits / count, hits / y.sum())
    assert interpolated == pytest.approx(area, rel=1e-6)
    assert metrics.AUC(curve="PR")(np.array([0, 1, 1]), np.array([0.1, 0.8, 0.9])) == pytest.approx(1.0)


@pytest.mark.parametrize("make", [
    lambda: metrics.Precision(), lambda: metrics.Recall(thresholds=[0.2, 0.6]), lambda: metrics.AUC(),
    lambda: metrics.AUC(curve="PR"), lambda: metrics.FalseNegatives(), lambda: metrics.BinaryAccuracy(),
])
def test_epoch_value_over_uneven_batches_equals_the_whole_and_shards_add_up(make, binary_data):
    y, p, w = binary_data
    whole = _update(make(), y, p, w)
    batched = _update(make(), y, p, w, batches=(7, 50, 1, 30, None))
    np.testing.assert_allclose(batched, whole, rtol=1e-12)
    # two shards' states added element-wise (an allreduce) give the whole data's result
    first, second = make(), make()
    _update(first, y[:40], p[:40], w[:40])
    _update(second, y[40:], p[40:], w[40:])
    for mine, theirs in zip(first.variables, second.variables):
        mine += theirs
    np.testing.assert_allclose(first.result(), whole, rtol=1e-12)
    again = make()
    _update(again, y[:40], p[:40], w[:40])
    other = make()
    _update(other, y[40:], p[40:], w[40:])
    again.merge_state([other])
    np.testing.assert_allclose(again.result(), whole, rtol=1e-12)


def test_f1_epoch_over_batches_equals_whole(rng):
    y = np.eye(4)[rng.integers(0, 4, 50)]
    p = rng.uniform(size=(50, 4)) + 0.5 * y
    whole = _update(metrics.F1Score(average="macro"), y, p)
    assert _update(metrics.F1Score(average="macro"), y, p, batches=(3, 20, None)) == pytest.approx(whole, rel=1e-12)


def test_reset_state_get_config_and_clone(binary_data):
    y, p, w = binary_data
    metric = metrics.AUC(num_thresholds=50, curve="PR", name="pr")
    value = metric(y, p, w)
    metric.reset_state()
    assert all(not v.any() for v in metric.variables) and metric.result() == 0.0
    twin = metrics.AUC.from_config(metric.get_config())
    assert twin.name == "pr" and twin(y, p, w) == pytest.approx(value)
    precision = metrics.Precision(thresholds=0.3, class_id=None, name="p30")
    assert metrics.Precision.from_config(precision.get_config())(y, p) == precision(y, p)
    clone = metric.clone()
    assert clone is not metric and clone.result() == 0.0


def test_get_accepts_names_classes_objects_and_functions():
    assert isinstance(metrics.get("precision"), metrics.Precision)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    recall = metrics.Recall()
    assert metrics.get(recall) is recall

    def halves(y_true, y_pred):
        return np.full(len(y_pred), 0.5)

    wrapped = metrics.get(halves)
    assert wrapped.name == "halves" and wrapped(np.zeros(3), np.zeros(3)) == 0.5


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Unknown metric 'f2'.*accuracy.*precision.*auc"):
        metrics.get("f2")
    with pytest.raises(TypeError, match="A metric must be"):
        metrics.get(3)
    with pytest.raises(ValueError, match="`curve` must be"):
        metrics.AUC(curve="roc2")
    with pytest.raises(ValueError, match="`num_thresholds`"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="`top_k`"):
        metrics.Precision(top_k=0)
    with pytest.raises(ValueError, match="`average`"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="sample_weight"):
        metrics.Mean().update_state(np.ones((4, 2)), sample_weight=np.ones(3))


@pytest.mark.parametrize("label_dtype", ["int64", "int32", "uint8"])
def test_accuracy_counts_integer_labels_as_the_per_sample_function_does(label_dtype):
    """The "accuracy" metric's count of hits (integer labels, no weights) against the mean of
    `sparse_categorical_accuracy`'s per-sample values, ties in the scores included."""
    from barenet.metrics.accuracy import MeanMetricWrapper, ShapeAccuracy, sparse_categorical_accuracy

    rng = np.random.default_rng(5)
    counted, general = ShapeAccuracy(), MeanMetricWrapper(sparse_categorical_accuracy)
    for size in (32, 7, 1):
        scores = rng.integers(0, 3, size=(size, 4)).astype(np.float32)  # many ties
        labels = rng.integers(0, 4, size=size).astype(label_dtype)
        counted.update_state(labels, scores)
        general.update_state(labels, scores)
        assert [float(v) for v in counted.variables] == [float(v) for v in general.variables]
        assert counted.result() == general.result()

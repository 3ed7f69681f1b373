"""Small evaluation helpers shared by chapters: noise rates, kNN classification accuracy."""
from __future__ import annotations

import numpy as np

from ._validation import check_features, check_labels


def noise_rate(clean, noisy) -> float:
    """Fraction of labels that differ from the clean ones.

    >>> noise_rate([0, 1, 2, 3], [0, 1, 2, 0])
    0.25
    """
    clean = check_labels(clean, name="clean")
    noisy = check_labels(noisy, name="noisy", length=clean.shape[0])
    return float(np.mean(clean != noisy))


def knn_predict(train_features, train_labels, test_features, k: int = 10, num_classes: int | None = None,
                metric: str = "cosine", device="auto") -> np.ndarray:
    """Majority vote of the ``k`` nearest training references (ties -> the nearer neighbours' class, through
    a tiny distance-rank bonus). Exact kNN in torch (:func:`labnoise.neighbors.knn`).

    >>> train = np.array([[0.0, 1.0], [0.1, 1.0], [1.0, 0.0], [1.0, 0.1]], dtype="float32")
    >>> knn_predict(train, np.array([0, 0, 1, 1]), np.array([[0.2, 0.9], [0.9, 0.2]], dtype="float32"), k=2,
    ...             device="cpu").tolist()
    [0, 1]
    """
    from .neighbors import knn

    train_features = check_features(train_features, name="train_features")
    train_labels = check_labels(train_labels, num_classes, name="train_labels", length=train_features.shape[0])
    test_features = check_features(test_features, name="test_features")
    if test_features.shape[1] != train_features.shape[1]:
        raise ValueError(f"test_features have {test_features.shape[1]} dims but train_features "
                         f"{train_features.shape[1]}: embed both with the same encoder.")
    c = int(num_classes or train_labels.max() + 1)
    _, idx = knn(train_features, k, query=test_features, metric=metric, device=device)
    votes = np.zeros((idx.shape[0], c), dtype=np.float64)
    rank_bonus = 1e-3 * (k - np.arange(k)) / k  # breaks ties towards nearer neighbours
    np.add.at(votes, (np.repeat(np.arange(idx.shape[0]), k), train_labels[idx].ravel()),
              np.tile(1.0 + rank_bonus, idx.shape[0]))
    return votes.argmax(1)


def knn_accuracy(train_features, train_labels, test_features, test_labels, k: int = 10, **kwargs) -> float:
    """Test accuracy (%) of a k-nearest-neighbour classifier on frozen features."""
    pred = knn_predict(train_features, train_labels, test_features, k=k, **kwargs)
    test_labels = check_labels(test_labels, name="test_labels", length=pred.shape[0])
    return float(100.0 * np.mean(pred == test_labels))

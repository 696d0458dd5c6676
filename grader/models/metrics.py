"""Accuracy, per-class accuracy and the most confused pairs, from predictions (NumPy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metrics:
    accuracy: float
    correct: int
    total: int
    per_class: dict[str, float]
    confused: list[tuple[str, str, int]]  # (true class, predicted class, count), most first

    def per_class_text(self) -> str:
        return ", ".join(f"{name}: {acc:.0%}" for name, acc in self.per_class.items())

    def confused_text(self, limit: int) -> str:
        return "; ".join(f"{true} taken for {pred} ({count}×)"
                         for true, pred, count in self.confused[:limit])


def compute_metrics(labels: np.ndarray, predictions: np.ndarray,
                    classes: tuple[str, ...]) -> Metrics:
    labels = labels.astype(np.int64)
    predictions = predictions.astype(np.int64)
    k = len(classes)
    valid = (predictions >= 0) & (predictions < k)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels[valid], predictions[valid]), 1)
    correct = int(np.trace(confusion))
    total = len(labels)
    per_class = {}
    for index, name in enumerate(classes):
        count = int((labels == index).sum())
        if count:
            per_class[name] = float(confusion[index, index] / count)
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")
    confused = []
    for flat in order:
        true, pred = divmod(int(flat), k)
        if off[true, pred] == 0:
            break
        confused.append((classes[true], classes[pred], int(off[true, pred])))
    return Metrics(correct / total if total else 0.0, correct, total, per_class, confused)

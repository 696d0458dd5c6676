"""The instructor's solution of a10 (trusted like the rubric; never shown to students)."""

import numpy as np


def attention(Q, K, V, scale=True):
    """softmax(Q Kᵀ / √d) V; `scale=False` is the known mistake."""
    scores = Q @ K.T / (np.sqrt(Q.shape[-1]) if scale else 1.0)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True) @ V

import numpy as np


def basic_gradient(W, x, b, y):
    # forgets to normalise: uses exp(o) instead of softmax(o); the bias gradient is right shape
    p = np.exp(x @ W + b)
    return x.T @ (p - y), (p - y).sum(axis=0)

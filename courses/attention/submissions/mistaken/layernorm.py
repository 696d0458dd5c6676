import numpy as np


def layer_norm(x, gamma, beta):
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True, ddof=1)
    return (x - mean) / np.sqrt(var + 1e-5) * gamma + beta

import numpy as np


def conv_forward(x, w, b):
    n, _, h, width = x.shape
    f, _, k, _ = w.shape
    out = np.zeros((n, f, h - k + 1, width - k + 1))
    for i in range(h - k + 1):
        for j in range(width - k + 1):
            window = x[:, :, i:i + k, j:j + k]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]

def momentum_step(W, grad, velocity, lr, momentum):
    velocity = momentum * velocity - lr * grad
    return W + velocity, velocity

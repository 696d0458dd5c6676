def momentum_step(W, grad, velocity, lr, momentum):
    velocity = momentum * velocity + lr * grad   # sign error
    return W + velocity, velocity

"""The reference library against torch: every function's answer is what torch computes for the
same layers, inputs or optimiser, and every known-mistake param changes the answer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from reference import get_reference  # noqa: E402


def compute(name: str, **params: Any) -> Any:
    return get_reference(name).compute(params)


# --- output shapes ----------------------------------------------------------------------------------

SHAPES = [
    ("conv-stride-pad", [3, 32, 32], [{"type": "conv", "out_channels": 8, "kernel": 3, "stride": 2, "padding": 1}],
     lambda: nn.Conv2d(3, 8, 3, stride=2, padding=1)),
    ("conv-rect-dilated", [2, 17, 23], [{"type": "conv", "out_channels": 4, "kernel": [3, 5], "dilation": 2}],
     lambda: nn.Conv2d(2, 4, (3, 5), dilation=2)),
    ("conv-same", [1, 9, 9], [{"type": "conv", "out_channels": 2, "kernel": 5, "padding": "same"}],
     lambda: nn.Conv2d(1, 2, 5, padding="same")),
    ("conv-valid", [1, 9, 9], [{"type": "conv", "out_channels": 2, "kernel": 4, "padding": "valid"}],
     lambda: nn.Conv2d(1, 2, 4, padding="valid")),
    ("transposed", [4, 7, 7], [{"type": "conv_transpose", "out_channels": 2, "kernel": 3, "stride": 2,
                                "padding": 1, "output_padding": 1}],
     lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)),
    ("transposed-dilated", [1, 5, 6], [{"type": "conv_transpose", "out_channels": 3, "kernel": 3, "dilation": 2}],
     lambda: nn.ConvTranspose2d(1, 3, 3, dilation=2)),
    ("maxpool-ceil", [3, 10, 10], [{"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True}],
     lambda: nn.MaxPool2d(3, 2, ceil_mode=True)),
    ("maxpool-ceil-padded", [1, 7, 7], [{"type": "maxpool", "kernel": 2, "stride": 2, "padding": 1,
                                         "ceil_mode": True}],
     lambda: nn.MaxPool2d(2, 2, padding=1, ceil_mode=True)),
    ("maxpool-dilated", [3, 12, 12], [{"type": "maxpool", "kernel": 3, "dilation": 2, "stride": 1}],
     lambda: nn.MaxPool2d(3, 1, dilation=2)),
    ("avgpool-padded", [3, 11, 11], [{"type": "avgpool", "kernel": 3, "stride": 2, "padding": 1}],
     lambda: nn.AvgPool2d(3, 2, padding=1)),
    ("adaptive", [5, 13, 9], [{"type": "adaptive_pool", "output": [2, 3]}], lambda: nn.AdaptiveAvgPool2d((2, 3))),
    ("lenet", [1, 32, 32], [{"type": "conv", "out_channels": 6, "kernel": 5}, {"type": "maxpool", "kernel": 2},
                            {"type": "conv", "out_channels": 16, "kernel": 5}, {"type": "maxpool", "kernel": 2},
                            {"type": "flatten"}, {"type": "linear", "out_features": 120}],
     lambda: nn.Sequential(nn.Conv2d(1, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(400, 120))),
]


@pytest.mark.parametrize(("name", "shape", "layers", "module"), SHAPES, ids=[s[0] for s in SHAPES])
def test_output_shape_matches_torch(name: str, shape: list[int], layers: list[Any], module: Any) -> None:
    out = module()(torch.zeros(1, *shape))
    assert compute("layer_output_shape", input=shape, layers=layers) == list(out.shape[1:])


SHAPE_MISTAKES = [
    ("ignore_dilation", [2, 17, 23], [{"type": "conv", "out_channels": 4, "kernel": 3, "dilation": 2}]),
    ("ignore_padding", [3, 32, 32], [{"type": "conv", "out_channels": 8, "kernel": 3, "padding": 1}]),
]


@pytest.mark.parametrize(("mistake", "shape", "layers"), SHAPE_MISTAKES, ids=[m[0] for m in SHAPE_MISTAKES])
def test_shape_mistakes_change_the_answer(mistake: str, shape: list[int], layers: list[Any]) -> None:
    right = compute("layer_output_shape", input=shape, layers=layers)
    assert compute("layer_output_shape", input=shape, layers=layers, **{mistake: True}) != right


# --- receptive field ------------------------------------------------------------------------------


def _torch_receptive_field(layers: list[dict[str, int]]) -> int:
    modules = [nn.Conv2d(1, 1, (1, layer["kernel"]), stride=(1, layer.get("stride", 1)),
                         dilation=(1, layer.get("dilation", 1)), bias=False) for layer in layers]
    for m in modules:
        nn.init.constant_(m.weight, 1.0)
    x = torch.ones(1, 1, 1, 200, requires_grad=True)
    out = nn.Sequential(*modules)(x)
    out[0, 0, 0, out.shape[-1] // 2].backward()
    touched = torch.nonzero(x.grad[0, 0, 0]).flatten()
    return int(touched.max() - touched.min() + 1)


FIELDS = [
    ("three-3x3", [{"kernel": 3}] * 3),
    ("strided", [{"kernel": 3, "stride": 2}, {"kernel": 3, "stride": 2}, {"kernel": 3}]),
    ("dilated", [{"kernel": 3, "dilation": 1}, {"kernel": 3, "dilation": 2}, {"kernel": 3, "dilation": 4}]),
    ("pool-like", [{"kernel": 5}, {"kernel": 2, "stride": 2}, {"kernel": 5}, {"kernel": 2, "stride": 2}]),
]


@pytest.mark.parametrize(("name", "layers"), FIELDS, ids=[f[0] for f in FIELDS])
def test_receptive_field_matches_torch(name: str, layers: list[dict[str, int]]) -> None:
    assert compute("receptive_field", layers=layers) == _torch_receptive_field(layers)


# --- parameter counts -----------------------------------------------------------------------------


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _bn_conv(cin: int, cout: int, k: int) -> list[Any]:
    return [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout)]


COUNTS = [
    ("linear", {"type": "linear", "in_features": 784, "out_features": 10}, lambda: nn.Linear(784, 10)),
    ("conv", {"type": "conv", "in_channels": 3, "out_channels": 16, "kernel": [3, 5]},
     lambda: nn.Conv2d(3, 16, (3, 5))),
    ("depthwise", {"type": "conv", "in_channels": 32, "out_channels": 32, "kernel": 3, "groups": 32},
     lambda: nn.Conv2d(32, 32, 3, groups=32)),
    ("grouped-no-bias", {"type": "conv", "in_channels": 8, "out_channels": 12, "kernel": 3, "groups": 4,
                         "bias": False}, lambda: nn.Conv2d(8, 12, 3, groups=4, bias=False)),
    ("separable", {"type": "separable", "in_channels": 16, "out_channels": 64, "kernel": 3},
     lambda: nn.Sequential(nn.Conv2d(16, 16, 3, groups=16), nn.Conv2d(16, 64, 1))),
    ("batchnorm", {"type": "batchnorm", "features": 64}, lambda: nn.BatchNorm2d(64)),
    ("layernorm", {"type": "layernorm", "features": 512}, lambda: nn.LayerNorm(512)),
    ("embedding", {"type": "embedding", "vocabulary": 1000, "dim": 64}, lambda: nn.Embedding(1000, 64)),
    ("rnn", {"type": "rnn", "input_size": 10, "hidden_size": 20}, lambda: nn.RNN(10, 20)),
    ("lstm", {"type": "lstm", "input_size": 10, "hidden_size": 20}, lambda: nn.LSTM(10, 20)),
    ("gru", {"type": "gru", "input_size": 32, "hidden_size": 16}, lambda: nn.GRU(32, 16)),
    ("gru-cell", {"type": "gru", "input_size": 32, "hidden_size": 16}, lambda: nn.GRUCell(32, 16)),
    ("attention", {"type": "attention", "d_model": 64, "heads": 8}, lambda: nn.MultiheadAttention(64, 8)),
    ("transformer", {"type": "transformer", "d_model": 64, "heads": 4, "d_ff": 256},
     lambda: nn.TransformerEncoderLayer(64, 4, dim_feedforward=256)),
    ("basic-block", {"type": "basic_block", "in_channels": 64, "out_channels": 64},
     lambda: nn.Sequential(*_bn_conv(64, 64, 3), *_bn_conv(64, 64, 3))),
    ("basic-block-projection", {"type": "basic_block", "in_channels": 64, "out_channels": 128},
     lambda: nn.Sequential(*_bn_conv(64, 128, 3), *_bn_conv(128, 128, 3), *_bn_conv(64, 128, 1))),
    ("bottleneck", {"type": "bottleneck", "in_channels": 256, "out_channels": 256},
     lambda: nn.Sequential(*_bn_conv(256, 64, 1), *_bn_conv(64, 64, 3), *_bn_conv(64, 256, 1))),
    ("bottleneck-projection", {"type": "bottleneck", "in_channels": 64, "out_channels": 256},
     lambda: nn.Sequential(*_bn_conv(64, 64, 1), *_bn_conv(64, 64, 3), *_bn_conv(64, 256, 1),
                           *_bn_conv(64, 256, 1))),
]


@pytest.mark.parametrize(("name", "layer", "module"), COUNTS, ids=[c[0] for c in COUNTS])
def test_param_count_matches_torch(name: str, layer: dict[str, Any], module: Any) -> None:
    assert compute("param_count", layers=[layer]) == _count(module())


COUNT_MISTAKES = [
    ("running-stats", {"type": "batchnorm", "features": 64}, {"count_running_stats": True}),
    ("single-bias", {"type": "lstm", "input_size": 10, "hidden_size": 20}, {"double_bias": False}),
    ("no-output-projection", {"type": "attention", "d_model": 64}, {"output_projection": False}),
    ("no-norms", {"type": "transformer", "d_model": 64, "d_ff": 128}, {"norms": False}),
    ("residual-no-bn", {"type": "basic_block", "in_channels": 8, "out_channels": 8}, {"count_norms": False}),
]


@pytest.mark.parametrize(("name", "layer", "mistake"), COUNT_MISTAKES, ids=[c[0] for c in COUNT_MISTAKES])
def test_count_mistakes_change_the_answer(name: str, layer: dict[str, Any], mistake: dict[str, Any]) -> None:
    assert compute("param_count", layers=[{**layer, **mistake}]) != compute("param_count", layers=[layer])


NORM_FLOPS = [
    ("folded", {"elements": 100, "group": 10, "folded": True}, 200),
    ("inference", {"elements": 100, "group": 10, "training": False}, 400),
    ("inference-no-affine", {"elements": 100, "group": 10, "training": False, "affine": False}, 200),
    ("training", {"elements": 100, "group": 10}, 800),
]


@pytest.mark.parametrize(("name", "params", "flops"), NORM_FLOPS, ids=[n[0] for n in NORM_FLOPS])
def test_norm_flops_by_hand(name: str, params: dict[str, Any], flops: int) -> None:
    assert compute("norm_flops", **params) == flops


# --- numbers by hand ------------------------------------------------------------------------------

RNG = np.random.default_rng(18)
X5 = RNG.integers(-3, 4, size=(2, 5, 5)).astype(float)
K3 = RNG.integers(-2, 3, size=(2, 3, 3)).astype(float)

CONVS = [
    ("single-channel", {"input": X5[0].tolist(), "kernel": K3[0].tolist()}, {}),
    ("two-channels-bias", {"input": X5.tolist(), "kernel": K3.tolist(), "bias": 1.5}, {}),
    ("stride-padding", {"input": X5.tolist(), "kernel": K3.tolist(), "stride": 2, "padding": 1},
     {"stride": 2, "padding": 1}),
    ("dilated", {"input": X5[0].tolist(), "kernel": [[1, 0], [2, -1]], "dilation": 2}, {"dilation": 2}),
]


@pytest.mark.parametrize(("name", "params", "options"), CONVS, ids=[c[0] for c in CONVS])
def test_conv_values_match_torch(name: str, params: dict[str, Any], options: dict[str, int]) -> None:
    x = torch.tensor(np.atleast_3d(np.asarray(params["input"])).reshape(-1, *np.shape(params["input"])[-2:]))[None]
    k = torch.tensor(np.asarray(params["kernel"], dtype=float).reshape(1, x.shape[1], *np.shape(params["kernel"])[-2:]))
    bias = torch.tensor([params.get("bias", 0.0)], dtype=torch.float64)
    expected = F.conv2d(x.double(), k.double(), bias, **options)[0, 0].numpy()
    assert np.allclose(compute("conv2d_values", **params), expected)
    assert not np.allclose(compute("conv2d_values", **params, flip_kernel=True), expected)


POOLS = [
    ("max", {"mode": "max", "kernel": 2}, lambda x: F.max_pool2d(x, 2)),
    ("max-overlap-padded", {"mode": "max", "kernel": 3, "stride": 2, "padding": 1},
     lambda x: F.max_pool2d(x, 3, 2, padding=1)),
    ("avg-include-pad", {"mode": "avg", "kernel": 3, "stride": 2, "padding": 1},
     lambda x: F.avg_pool2d(x, 3, 2, padding=1)),
    ("avg-exclude-pad", {"mode": "avg", "kernel": 3, "stride": 2, "padding": 1, "count_include_pad": False},
     lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False)),
]


@pytest.mark.parametrize(("name", "params", "op"), POOLS, ids=[p[0] for p in POOLS])
def test_pool_values_match_torch(name: str, params: dict[str, Any], op: Any) -> None:
    expected = op(torch.tensor(X5[0])[None, None])[0, 0].numpy()
    assert np.allclose(compute("pool2d_values", input=X5[0].tolist(), **params), expected)


def test_softmax_and_cross_entropy_match_torch() -> None:
    logits = [[2.0, 1.0, 0.1], [0.5, -1.0, 3.0]]
    assert np.allclose(compute("softmax_values", logits=logits[0]), torch.softmax(torch.tensor(logits[0]), 0))
    assert compute("softmax_values", logits=logits[0], index=1) == pytest.approx(
        float(torch.softmax(torch.tensor(logits[0]), 0)[1]))
    assert np.allclose(compute("softmax_values", logits=logits[0], temperature=2.0),
                       torch.softmax(torch.tensor(logits[0]) / 2, 0))
    for smoothing in (0.0, 0.1):
        expected = F.cross_entropy(torch.tensor(logits), torch.tensor([0, 2]), label_smoothing=smoothing)
        got = compute("cross_entropy_value", logits=logits, target=[0, 2], label_smoothing=smoothing)
        assert got == pytest.approx(float(expected))
    probs = torch.softmax(torch.tensor(logits), 1)
    expected = F.nll_loss(probs.log2(), torch.tensor([0, 2]), reduction="sum")
    assert compute("cross_entropy_value", probabilities=probs.tolist(), target=[0, 2], reduction="sum",
                   log_base="2") == pytest.approx(float(expected))
    assert compute("softmax_values", logits=logits[0], skip_exp=True) != compute("softmax_values", logits=logits[0])


THETA, GRADS = [0.5, -1.0, 2.0], [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.2, 0.2]]
OPTIMIZERS = [
    ("sgd", {"optimizer": "sgd", "lr": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd-weight-decay", {"optimizer": "sgd", "lr": 0.1, "weight_decay": 0.01},
     lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    ("momentum", {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("nesterov", {"optimizer": "nesterov", "lr": 0.1, "momentum": 0.8},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True)),
    ("rmsprop", {"optimizer": "rmsprop", "lr": 0.01, "alpha": 0.9},
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    ("adam", {"optimizer": "adam", "lr": 0.01}, lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8)),
    ("adam-weight-decay", {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.1},
     lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1)),
    ("adamw", {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.1},
     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize(("name", "params", "make"), OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_steps_match_torch(name: str, params: dict[str, Any], make: Any) -> None:
    theta = torch.tensor(THETA, dtype=torch.float64, requires_grad=True)
    optimizer = make([theta])
    for g in GRADS:
        theta.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
    assert np.allclose(compute("optimizer_step", theta=THETA, gradients=GRADS, **params), theta.detach().numpy())


OPTIMIZER_MISTAKES = [
    ("adam-no-bias-correction", {"optimizer": "adam", "lr": 0.01}, {"bias_correction": False}),
    ("rmsprop-eps-inside", {"optimizer": "rmsprop", "lr": 0.01, "eps": 0.01}, {"eps_inside_sqrt": True}),
    ("momentum-dampened-start", {"optimizer": "momentum", "lr": 0.1, "dampening": 0.5},
     {"first_step_momentum_is_gradient": False}),
]


@pytest.mark.parametrize(("name", "params", "mistake"), OPTIMIZER_MISTAKES, ids=[o[0] for o in OPTIMIZER_MISTAKES])
def test_optimizer_mistakes_change_the_answer(name: str, params: dict[str, Any], mistake: dict[str, Any]) -> None:
    right = compute("optimizer_step", theta=THETA, gradients=GRADS, **params)
    assert not np.allclose(compute("optimizer_step", theta=THETA, gradients=GRADS, **params, **mistake), right)


def test_classic_momentum_equals_pytorch_form_at_constant_rate() -> None:
    base = {"theta": THETA, "gradients": GRADS, "lr": 0.1, "momentum": 0.9}
    for optimizer in ("momentum", "nesterov"):
        assert np.allclose(compute("optimizer_step", optimizer=optimizer, momentum_form="classic", **base),
                           compute("optimizer_step", optimizer=optimizer, **base))


SCHEDULES = [
    ("step", {"schedule": "step", "step_size": 3, "gamma": 0.5},
     lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
    ("multistep", {"schedule": "multistep", "milestones": [2, 5], "gamma": 0.1},
     lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5], 0.1)),
    ("exponential", {"schedule": "exponential", "gamma": 0.9},
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    ("cosine", {"schedule": "cosine", "t_max": 8, "eta_min": 0.01},
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 8, 0.01)),
]


@pytest.mark.parametrize(("name", "params", "make"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedules_match_torch(name: str, params: dict[str, Any], make: Any) -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    scheduler = make(optimizer)
    for epoch in range(8):
        assert compute("lr_at_epoch", lr=0.5, epoch=epoch, **params) == pytest.approx(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()


INITS = [
    ("xavier-uniform", {"scheme": "xavier", "distribution": "uniform"}, lambda t: nn.init.xavier_uniform_(t), "bound"),
    ("xavier-normal", {"scheme": "xavier", "distribution": "normal"}, lambda t: nn.init.xavier_normal_(t), "std"),
    ("xavier-tanh-gain", {"scheme": "xavier", "distribution": "uniform", "nonlinearity": "tanh", "xavier_gain": True},
     lambda t: nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain("tanh")), "bound"),
    ("he-uniform", {"scheme": "he", "distribution": "uniform"},
     lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), "bound"),
    ("he-normal-fan-out", {"scheme": "he", "distribution": "normal", "mode": "fan_out"},
     lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), "std"),
]


@pytest.mark.parametrize(("name", "params", "init", "measure"), INITS, ids=[i[0] for i in INITS])
def test_init_scales_match_torch(name: str, params: dict[str, Any], init: Any, measure: str) -> None:
    torch.manual_seed(0)
    weight = torch.empty(300, 500)  # fan_out 300, fan_in 500
    init(weight)
    observed = float(weight.abs().max()) if measure == "bound" else float(weight.std())
    assert compute("init_scale", fan_in=500, fan_out=300, **params) == pytest.approx(observed, rel=0.02)


# --- backprop in general --------------------------------------------------------------------------

CSC420 = {"definitions": {"z1": "w1*x1 + w2*x2", "h1": "σ(z1)", "z2": "w3*x3 + w4*x4", "h2": "σ(z2)",
                          "z3": "w5*h1 + w6*h2", "y_hat": "σ(z3)", "L": "(y - y_hat)^2"},
          "values": {"w1": 0.75, "w2": -0.63, "w3": 0.24, "w4": -1.7, "w5": 0.8, "w6": -0.2,
                     "x1": 0.9, "x2": -1.1, "x3": -0.3, "x4": 0.8, "y": 0.5}}
SEED = {"w": [0.75, -0.63, 0.24, -1.7, 0.8, -0.2], "x": [0.9, -1.1, -0.3, 0.8], "y": 0.5}


@pytest.mark.parametrize("wrt", ["w1", "w3", "w4", "w5", "w6"])
def test_the_csc420_network_is_one_case_of_the_chain_rule(wrt: str) -> None:
    general = compute("chain_rule_gradient", **CSC420, wrt=wrt)
    assert general == pytest.approx(compute("two_layer_sigmoid_grad", **SEED, wrt=wrt), rel=1e-12)
    mistaken = compute("chain_rule_gradient", **CSC420, wrt=wrt, replace={"h1": "σ(-z1)"})
    assert mistaken == pytest.approx(
        compute("two_layer_sigmoid_grad", **SEED, wrt=wrt, negate_preactivation=["h1"]), rel=1e-12)


def test_rounding_every_step_gives_the_paper_answer() -> None:
    assert compute("chain_rule_gradient", **CSC420, wrt="w3", round_decimals=4) == 0.0006
    assert compute("chain_rule_gradient", **CSC420, wrt="w3") == pytest.approx(0.00062158, abs=1e-8)


CHAINS = [
    ("tanh-exp", {"a": "tanh(w*x + b)", "L": "exp(a) * a^2"}, {"w": 0.3, "x": -1.2, "b": 0.4}),
    ("shared-use", {"u": "w*x", "v": "u*u + w", "L": "log(1 + v^2) - u"}, {"w": 0.7, "x": 1.3}),
    ("softplus-relu", {"h": "relu(x - c)", "L": "softplus(h*w) / 2"}, {"w": -0.8, "x": 2.0, "c": 0.5}),
]

TORCH_FUNCS = {"tanh": torch.tanh, "exp": torch.exp, "log": torch.log, "relu": torch.relu,
               "softplus": F.softplus}


@pytest.mark.parametrize(("name", "definitions", "values"), CHAINS, ids=[c[0] for c in CHAINS])
def test_chain_rule_gradients_match_autograd(name: str, definitions: dict[str, str], values: dict[str, float]) -> None:
    from grader.mathparse.ast import Bin, Call, Neg, Num, Var
    from grader.mathparse.parser import ParseConfig, parse

    env = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}

    def run(node: Any) -> Any:
        if isinstance(node, Num):
            return torch.tensor(float(node.value), dtype=torch.float64)
        if isinstance(node, Var):
            return env[node.name]
        if isinstance(node, Neg):
            return -run(node.operand)
        if isinstance(node, Call):
            return TORCH_FUNCS[node.func](run(node.args[0]))
        assert isinstance(node, Bin)
        a, b = run(node.left), run(node.right)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a**b}[node.op]

    for name_, text in definitions.items():
        env[name_] = run(parse(text, ParseConfig(variables=frozenset(env))))
    loss = env[list(definitions)[-1]]
    for wrt in values:
        (expected,) = torch.autograd.grad(loss, env[wrt], retain_graph=True)
        got = compute("chain_rule_gradient", definitions=definitions, values=values, wrt=wrt)
        assert got == pytest.approx(float(expected), rel=1e-10, abs=1e-12)


def test_chain_rule_derivative_is_a_formula_of_the_variables() -> None:
    from grader.mathparse.ast import free_variables
    from grader.mathparse.evaluate import eval_float
    from grader.mathparse.parser import ParseConfig, parse

    text = compute("chain_rule_derivative", definitions={"h": "σ(2x)", "f": "4*h"}, variables=["x"], wrt="x")
    tree = parse(text, ParseConfig(variables=frozenset({"x"}), functions={"sigmoid_prime": "sigmoid_prime"}))
    assert free_variables(tree) == {"x"}
    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(4 * torch.sigmoid(2 * x), x)
    assert float(eval_float(tree, {"x": np.array([0.3])}, 1).values[0]) == pytest.approx(float(expected))


# --- code references ------------------------------------------------------------------------------


def test_dense_backward_matches_the_formulas() -> None:
    x, W, b, up = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2)), RNG.normal(size=2), RNG.normal(size=(4, 2))
    dx, dW, db = compute("dense_backward", x=x, W=W, b=b, upstream=up)
    assert np.allclose(dx, up @ W.T) and np.allclose(dW, x.T @ up) and np.allclose(db, up.sum(axis=0))
    assert np.allclose(compute("dense_forward", x=x, W=W, b=b, activation="relu"), np.maximum(x @ W + b, 0))
    _, _, db_first = compute("dense_backward", x=x, W=W, b=b, upstream=up, sum_bias_over_batch=False)
    assert np.allclose(db_first, up[0])


def test_norms_softmax_attention_adam_match_torch() -> None:
    x, gamma, beta = RNG.normal(size=(5, 3)), RNG.normal(size=3), RNG.normal(size=3)
    expected = F.batch_norm(torch.tensor(x), None, None, torch.tensor(gamma), torch.tensor(beta), training=True)
    assert np.allclose(compute("batchnorm_forward", x=x, gamma=gamma, beta=beta), expected.numpy())
    expected = F.layer_norm(torch.tensor(x), (3,), torch.tensor(gamma), torch.tensor(beta))
    assert np.allclose(compute("layernorm_forward", x=x, gamma=gamma, beta=beta), expected.numpy())
    assert np.allclose(compute("softmax_forward", z=x), torch.softmax(torch.tensor(x), -1).numpy())
    Q, K, V = RNG.normal(size=(3, 4)), RNG.normal(size=(5, 4)), RNG.normal(size=(5, 2))
    scores = Q @ K.T / 2.0
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert np.allclose(compute("attention_forward", Q=Q, K=K, V=V), weights @ V)
    assert not np.allclose(compute("attention_forward", Q=Q, K=K, V=V, scale=False), weights @ V)
    theta, grad = torch.tensor(THETA, dtype=torch.float64, requires_grad=True), np.asarray(GRADS[0])
    optimizer = torch.optim.Adam([theta], lr=0.01)
    theta.grad = torch.tensor(grad)
    optimizer.step()
    new_theta, _, _ = compute("adam_step", theta=THETA, grad=grad, m=np.zeros(3), v=np.zeros(3), lr=0.01)
    assert np.allclose(new_theta, theta.detach().numpy())


def test_conv2d_forward_matches_torch() -> None:
    x, w, b = RNG.normal(size=(2, 3, 6, 6)), RNG.normal(size=(4, 3, 3, 3)), RNG.normal(size=4)
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
    assert np.allclose(compute("conv2d_forward", x=x, w=w, b=b, stride=2, padding=1), expected.numpy())


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_sgd_step_matches_torch_from_a_given_buffer(nesterov: bool) -> None:
    theta = torch.tensor(THETA, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([theta], lr=0.1, momentum=0.9, nesterov=nesterov)
    velocity = np.zeros(3)  # PyTorch's buffer starts at the first gradient: 0.9·0 + g
    mine = np.asarray(THETA)
    for g in GRADS:
        theta.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        mine, velocity = compute("sgd_step", theta=mine, grad=np.asarray(g), velocity=velocity, nesterov=nesterov)
    assert np.allclose(mine, theta.detach().numpy())


def test_batchnorm_backward_matches_the_formula() -> None:
    x, gamma, beta, up = RNG.normal(size=(6, 3)), RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=(6, 3))
    eps = 1e-5
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) / sigma
    m = len(x)
    dx = gamma / (m * sigma) * (m * up - up.sum(axis=0) - x_hat * (up * x_hat).sum(axis=0))
    got_dx, dgamma, dbeta = compute("batchnorm_backward", x=x, gamma=gamma, beta=beta, upstream=up)
    assert np.allclose(got_dx, dx) and np.allclose(dgamma, (up * x_hat).sum(axis=0)) and np.allclose(dbeta, up.sum(0))
    constant_stats, _, _ = compute("batchnorm_backward", x=x, gamma=gamma, beta=beta, upstream=up,
                                   through_statistics=False)
    assert np.allclose(constant_stats, up * gamma / sigma) and not np.allclose(constant_stats, dx)


def test_conv2d_backward_matches_finite_differences() -> None:
    x, w, b = RNG.normal(size=(1, 2, 5, 5)), RNG.normal(size=(3, 2, 3, 3)), RNG.normal(size=3)
    up = RNG.normal(size=(1, 3, 3, 3))
    dx, dw, db = compute("conv2d_backward", x=x, w=w, b=b, upstream=up, stride=2, padding=1)

    def loss(x_: np.ndarray, w_: np.ndarray, b_: np.ndarray) -> float:
        return float((compute("conv2d_forward", x=x_, w=w_, b=b_, stride=2, padding=1) * up).sum())

    direction = RNG.normal(size=w.shape)
    numeric = (loss(x, w + 1e-6 * direction, b) - loss(x, w - 1e-6 * direction, b)) / 2e-6
    assert float((dw * direction).sum()) == pytest.approx(numeric, rel=1e-6)
    direction = RNG.normal(size=x.shape)
    numeric = (loss(x + 1e-6 * direction, w, b) - loss(x - 1e-6 * direction, w, b)) / 2e-6
    assert float((dx * direction).sum()) == pytest.approx(numeric, rel=1e-6)
    assert np.allclose(db, up.sum(axis=(0, 2, 3)))

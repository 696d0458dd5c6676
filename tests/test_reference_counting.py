"""The counters against ASSIGNMENTS.md's facts, against torch, and following their params."""

from __future__ import annotations

from typing import Any

import pytest

from reference import get_reference
from reference.counting import Conv2d, FlopConvention, Linear, Network, Pool

Q3 = {"in_channels": 50, "in_size": 12, "filters": 20, "kernel": 4, "padding": 1, "stride": 2,
      "pool_kernel": 3, "pool_stride": 1}
LENET: dict[str, Any] = {
    "input": [1, 32, 32],
    "layers": [
        {"type": "conv2d", "out_channels": 6, "kernel": 5}, {"type": "subsample", "kernel": 2},
        {"type": "conv2d", "out_channels": 16, "kernel": 5}, {"type": "subsample", "kernel": 2},
        {"type": "conv2d", "out_channels": 120, "kernel": 5}, {"type": "flatten"},
        {"type": "linear", "out_features": 84}, {"type": "linear", "out_features": 10},
    ],
}
TABLE1: dict[str, Any] = {
    "input": [1, 28, 28],
    "layers": [
        {"type": "conv2d", "out_channels": 4, "kernel": 5, "stride": 1, "padding": 2},
        {"type": "conv2d", "out_channels": 8, "kernel": 5, "stride": 2, "padding": 2},
        {"type": "conv2d", "out_channels": 12, "kernel": 4, "stride": 2, "padding": 1},
    ],
}
C3_TABLE = [3] * 6 + [4] * 9 + [6]

FACTS = [
    ("q3 no bias", "conv_pool_flops", {**Q3, "bias": False}, 1_153_840),
    ("q3 with bias", "conv_pool_flops", {**Q3, "bias": True}, 1_154_560),
    ("q3 multiply-add as one", "conv_pool_flops", {**Q3, "bias": False, "mac_as_one": True}, 578_560),
    ("q3 pooling left out", "conv_pool_flops", {**Q3, "bias": False, "include_pool": False}, 1_151_280),
    ("q3 max as n", "conv_pool_flops", {**Q3, "bias": False, "pool_max_cost": "n"}, 1_151_280 + 2_880),
    ("lenet-5", "network_params", LENET, 61_706),
    ("lenet-5 partial C3", "network_params",
     {**LENET, "layers": [*LENET["layers"][:2], {**LENET["layers"][2], "in_maps_per_output": C3_TABLE},
                          *LENET["layers"][3:]]}, 61_706 - 2_416 + 1_516),
    ("784-64-10", "mlp_params", {"sizes": [784, 64, 10]}, 50_890),
    ("784-64-10 bias trick", "mlp_params", {"sizes": [784, 64, 10], "bias": "bias_trick"}, 50_880),
    ("two hidden of 64", "mlp_params", {"sizes": [784, 64, 64, 10]}, 55_050),
    ("ten hidden of 64", "mlp_params", {"sizes": [784, *[64] * 10, 10]}, 88_330),
    ("784-10", "mlp_params", {"sizes": [784, 10]}, 7_850),
    ("784-200-100-60-30-10", "mlp_params", {"sizes": [784, 200, 100, 60, 30, 10]}, 185_300),
    ("iterations per epoch", "iterations_per_epoch", {"train_size": 60_000, "batch_size": 100}, 600),
    ("U3flat", "network_output_units", TABLE1, 588),
    ("w1 gradient shape", "mlp_weight_shape", {"sizes": [784, 64, 10], "bias": "bias_trick", "layer": 0},
     [785, 64]),
    ("w2 gradient shape", "mlp_weight_shape", {"sizes": [784, 64, 10], "bias": "bias_trick", "layer": 1},
     [64, 10]),
]


@pytest.mark.parametrize(("function", "params", "fact"), [c[1:] for c in FACTS], ids=[c[0] for c in FACTS])
def test_matches_assignment_facts(function: str, params: dict[str, Any], fact: object) -> None:
    assert get_reference(function).compute(params) == fact


def test_equal_width_root() -> None:
    width = get_reference("mlp_equal_width").compute(
        {"inputs": 784, "outputs": 10, "hidden_layers": 2, "match": {"sizes": [784, 64, 10]}})
    assert width == pytest.approx(2 * 52321**0.5 - 398, abs=1e-9)


FOLLOW = [
    ("more filters", "conv_pool_flops", {**Q3, "bias": False, "filters": 40}, 2 * 1_153_840),
    ("stride 1", "conv_pool_flops", {**Q3, "bias": False, "stride": 1},
     20 * 11 * 11 * 1_599 + 20 * 9 * 9 * 8),
    ("wider hidden", "mlp_params", {"sizes": [784, 128, 10]}, 784 * 128 + 128 + 128 * 10 + 10),
    ("batch of 64", "iterations_per_epoch", {"train_size": 60_000, "batch_size": 64}, 938),
    ("batch of 64, drop last", "iterations_per_epoch",
     {"train_size": 60_000, "batch_size": 64, "drop_last": True}, 937),
]


@pytest.mark.parametrize(("function", "params", "answer"), [c[1:] for c in FOLLOW], ids=[c[0] for c in FOLLOW])
def test_answer_follows_params(function: str, params: dict[str, Any], answer: int) -> None:
    assert get_reference(function).compute(params) == answer


def test_kernel_that_does_not_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        get_reference("conv_pool_flops").compute({**Q3, "in_size": 2, "padding": 0})


# --- cross-checks against torch modules built from the same description --------------------------

NETWORKS = [
    ("lenet-5", Network.model_validate(LENET)),
    ("table 1", Network.model_validate(TABLE1)),
    ("q3 conv+pool", Network(input=[50, 12, 12], layers=[
        Conv2d(out_channels=20, kernel=4, stride=2, padding=1), Pool(type="maxpool", kernel=3, stride=1)])),
    ("mlp", Network(input=[784], layers=[Linear(out_features=64), Linear(out_features=10)])),
    ("no-bias conv", Network(input=[3, 9, 9], layers=[Conv2d(out_channels=5, kernel=3, bias=False)])),
]


def _torch_module(net: Network) -> Any:
    torch = pytest.importorskip("torch")
    modules = []
    shape = net.shapes()
    for layer, in_shape in zip(net.layers, shape, strict=False):
        if isinstance(layer, Conv2d):
            modules.append(torch.nn.Conv2d(in_shape[0], layer.out_channels, layer.kernel,
                                           layer.stride, layer.padding, bias=layer.bias))
        elif isinstance(layer, Linear):
            modules.append(torch.nn.Linear(in_shape[0], layer.out_features, bias=layer.bias))
        elif isinstance(layer, Pool):
            cls = torch.nn.MaxPool2d if layer.type == "maxpool" else torch.nn.AvgPool2d
            modules.append(cls(layer.kernel, layer.stride or layer.kernel, layer.padding))
        else:
            modules.append(torch.nn.Flatten(start_dim=0))
    return torch.nn.Sequential(*modules)


@pytest.mark.parametrize("net", [n for _, n in NETWORKS], ids=[i for i, _ in NETWORKS])
def test_params_and_shapes_match_torch(net: Network) -> None:
    torch = pytest.importorskip("torch")
    module = _torch_module(net)
    assert sum(net.params_per_layer()) == sum(p.numel() for p in module.parameters())
    out = module(torch.zeros(*net.input))
    assert tuple(out.shape) == net.shapes()[-1]


@pytest.mark.parametrize("net", [n for _, n in NETWORKS], ids=[i for i, _ in NETWORKS])
def test_flops_match_torch_flop_counter(net: Network) -> None:
    """torch counts 2 FLOPs per multiply-add and ignores pooling and bias: our convention
    "product and sum 1 each, bias 1, pooling left out" equals it exactly when every layer has a bias."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    module = _torch_module(net)
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, *net.input))
    ours = sum(net.flops_per_layer(FlopConvention(bias=True, include_pool=False)))
    no_bias_outputs = sum(
        _outputs(layer, s) for layer, s in zip(net.layers, net.shapes()[1:], strict=False)
        if isinstance(layer, Conv2d | Linear) and not layer.bias)
    assert ours + no_bias_outputs == counter.get_total_flops()


def _outputs(layer: object, out_shape: tuple[int, ...]) -> int:
    count = 1
    for d in out_shape:
        count *= d
    return count

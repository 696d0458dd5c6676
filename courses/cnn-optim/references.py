"""cnn-optim: the course's own reference functions (the counting convention of its lectures)."""

from pydantic import BaseModel, Field

from reference.registry import reference


class ConvLayerFlops(BaseModel):
    in_channels: int = Field(gt=0)
    out_channels: int = Field(gt=0)
    kernel: int = Field(gt=0)
    out_size: int = Field(gt=0, description="the output's height and width")
    bias: bool = True
    mac_as_one: bool = Field(False, description="the known mistake: a multiply-add counted as one FLOP")


@reference("conv_layer_flops", ConvLayerFlops)
def conv_layer_flops(p: ConvLayerFlops) -> int:
    """Per output value: k²·C_in multiply-adds (2 FLOPs each, or 1), plus 1 for the bias."""
    macs = p.kernel * p.kernel * p.in_channels
    per_output = macs * (1 if p.mac_as_one else 2) + (1 if p.bias else 0)
    return per_output * p.out_channels * p.out_size * p.out_size

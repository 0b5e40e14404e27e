#!/usr/bin/python3
"""Writes the TorchScript modules through which RetinaGrade calls libtorch operations that DJL
does not expose. They are written with Debian's python3-torch 1.13, and DJL's libtorch 2.7.1
loads them. The modules:
    silu.pt           SiLU as one fused kernel, forward and backward
    silu_inplace.pt   SiLU overwriting its input, for inference
    channels_last.pt  a copy of a 4-D tensor in channels-last (NHWC) memory order
Usage, from the repository root:
    /usr/bin/python3 src/main/torchscript/export_ops.py src/main/resources/org/retinagrade/model/torchscript
"""
import os
import sys

import torch


class ChannelsLast(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last)


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.jit.script(torch.nn.SiLU()).save(os.path.join(out, "silu.pt"))
torch.jit.script(torch.nn.SiLU(inplace=True)).save(os.path.join(out, "silu_inplace.pt"))
torch.jit.script(ChannelsLast()).save(os.path.join(out, "channels_last.pt"))

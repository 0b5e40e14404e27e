#!/usr/bin/python3
"""Writes layout_probe.pt, a TorchScript module for the tests (Debian python3-torch 1.13): it
returns a 1-element boolean tensor that is true when its 4-D input is in channels-last order.
    /usr/bin/python3 src/test/resources/model/layout_probe.py src/test/resources/model/layout_probe.pt
"""
import sys

import torch


class LayoutProbe(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([x.is_contiguous(memory_format=torch.channels_last)])


torch.jit.script(LayoutProbe()).save(sys.argv[1])

#!/usr/bin/python3
"""Writes the parity fixture for RetinaGrade's EfficientNetV2 (Debian python3-torch 1.13 and
python3-torchvision 0.14.1).

A torchvision EfficientNet with RetinaGrade's "small" stage table is built with seed 2026,
its BatchNorm running statistics are set to random values (so that eval mode uses
non-trivial statistics), and the state dict, a fixed input and the eval-mode logits are
saved as npz:
    /usr/bin/python3 torchvision_parity_fixture.py small small-parity.npz
With "s" in place of "small" it writes the full efficientnet_v2_s at 224 px instead (large;
for the opt-in full parity test, not committed).
"""
import sys
from functools import partial

import numpy as np
import torch
from torch import nn
from torchvision.models import efficientnet

torch.manual_seed(2026)
variant, out = sys.argv[1], sys.argv[2]
if variant == "small":
    setting = [
        efficientnet.FusedMBConvConfig(1, 3, 1, 16, 16, 1),
        efficientnet.FusedMBConvConfig(4, 3, 2, 16, 24, 2),
        efficientnet.MBConvConfig(4, 3, 2, 24, 40, 2),
        efficientnet.MBConvConfig(6, 3, 2, 40, 64, 2),
    ]
    model = efficientnet.EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.1, num_classes=5,
                                      norm_layer=partial(nn.BatchNorm2d, eps=1e-03), last_channel=320)
    size = 64
else:
    model = efficientnet.efficientnet_v2_s(num_classes=5)
    size = 224
with torch.no_grad():
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.uniform_(0.5, 1.5)
            module.bias.uniform_(-0.2, 0.2)
model.eval()
x = torch.randn(2, 3, size, size)
with torch.no_grad():
    logits = model(x)
arrays = {name: tensor.detach().numpy() for name, tensor in model.state_dict().items()
          if not name.endswith("num_batches_tracked")}
arrays["__input__"] = x.numpy()
arrays["__logits__"] = logits.numpy()
np.savez(out, **arrays)
print(f"{len(arrays) - 2} tensors, {sum(p.numel() for p in model.parameters())} parameters, logits {logits.shape}")

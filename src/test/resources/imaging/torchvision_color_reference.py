#!/usr/bin/python3
"""Reference outputs of torchvision's colour adjustments on fixed pixels.

Run once with Debian's python3-torchvision 0.14.1; the output is committed as
torchvision-color-reference.json so that the Java tests run without Python:
    /usr/bin/python3 torchvision_color_reference.py > torchvision-color-reference.json
"""
import json

import torch
import torchvision
import torchvision.transforms.functional as F

# 2 x 4 RGB image in [0, 1]: grey, primaries, a fundus-like orange, black, white, a pale tone.
PIXELS = [
    [[0.5, 0.5, 0.5], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    [[0.8, 0.35, 0.12], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.62, 0.71, 0.93]],
]


def to_tensor():
    return torch.tensor(PIXELS, dtype=torch.float32).permute(2, 0, 1).contiguous()


def to_list(t):
    return t.permute(1, 2, 0).reshape(-1).tolist()


cases = []
for factor in [-0.5, -0.25, -0.1, 0.0, 0.1, 0.33, 0.5]:
    cases.append({"op": "hue", "factor": factor, "output": to_list(F.adjust_hue(to_tensor(), factor))})
for factor in [0.0, 0.5, 1.0, 1.4, 2.0]:
    cases.append({"op": "saturation", "factor": factor, "output": to_list(F.adjust_saturation(to_tensor(), factor))})
    cases.append({"op": "brightness", "factor": factor, "output": to_list(F.adjust_brightness(to_tensor(), factor))})
    cases.append({"op": "contrast", "factor": factor, "output": to_list(F.adjust_contrast(to_tensor(), factor))})
for gamma in [0.5, 1.0, 1.5]:
    cases.append({"op": "gamma", "factor": gamma, "output": to_list(F.adjust_gamma(to_tensor(), gamma, 1.0))})

print(json.dumps({
    "torchvision": torchvision.__version__,
    "torch": torch.__version__,
    "input": [v for row in PIXELS for px in row for v in px],
    "cases": cases,
}, indent=1))

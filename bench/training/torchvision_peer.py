#!/usr/bin/python3
"""Peer for the training benchmark: torchvision EfficientNetV2 on Debian's torch 1.13 (CPU).

Usage: torchvision_peer.py VARIANT RESOLUTION BATCH STEPS THREADS [FORMAT]
Times training steps (forward, cross-entropy, backward, AdamW step) and eval-mode inference
on random input, one warm-up step each, and prints medians per image and the peak RSS.
FORMAT is "nchw" (default: the model as torchvision builds it) or "channels-last" (the model
and its input converted to channels-last memory order, as in PyTorch's tutorial
https://docs.pytorch.org/tutorials/intermediate/memory_format_tutorial.html).
"""
import resource
import statistics
import sys
import time

import torch
import torchvision

variant, resolution, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
formats = {"nchw": torch.contiguous_format, "channels-last": torch.channels_last}
format_name = sys.argv[6] if len(sys.argv) > 6 else "nchw"
if format_name not in formats:
    sys.exit(f"torchvision_peer.py: invalid FORMAT {format_name!r}: expected nchw or channels-last")
memory_format = formats[format_name]
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
torch.manual_seed(1)
model = getattr(torchvision.models, "efficientnet_v2_" + variant)(num_classes=5).to(memory_format=memory_format)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
loss_fn = torch.nn.CrossEntropyLoss()
model.train()
train = []
for step in range(steps + 1):
    start = time.perf_counter()
    x = torch.randn(batch, 3, resolution, resolution).contiguous(memory_format=memory_format)
    y = torch.randint(0, 5, (batch,))
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
    if step > 0:
        train.append((time.perf_counter() - start) * 1000 / batch)
        print(f"train step {step}: {train[-1]:.0f} ms per image")
model.eval()
infer = []
with torch.no_grad():
    for step in range(steps + 1):
        start = time.perf_counter()
        x = torch.randn(batch, 3, resolution, resolution).contiguous(memory_format=memory_format)
        torch.softmax(model(x), 1).numpy()
        if step > 0:
            infer.append((time.perf_counter() - start) * 1000 / batch)
            print(f"inference step {step}: {infer[-1]:.0f} ms per image")
print(f"median training: {statistics.median(train):.1f} ms per image")
print(f"median inference: {statistics.median(infer):.1f} ms per image")
print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

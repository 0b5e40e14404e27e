#!/usr/bin/python3
"""Peer measurements for the preparation benchmark, with Debian's torch 1.13 / torchvision 0.14.

  prep DIR ROUNDS   images/s of the torchvision PIL training pipeline (decode, resize to 224,
                    RandomResizedCrop scale 0.8-1.0, horizontal and vertical flips, rotation by
                    any angle, ColorJitter 0.4/0.4/0.4/0.1 with p 0.8, ToTensor, Normalize) on
                    one thread, one worker; prints one line per round and the median.
  train STEPS       images/s consumed by efficientnet_v2_s (5 classes) training at 224 px,
                    batch 8, 2 threads: forward, cross-entropy, backward, AdamW step.
"""
import os
import statistics
import sys
import time

import torch
import torchvision
from PIL import Image
from torchvision import transforms


def prep(folder, rounds):
    torch.set_num_threads(1)
    torch.manual_seed(1)
    images = os.path.join(folder, "images") if os.path.isdir(os.path.join(folder, "images")) else folder
    files = sorted(os.path.join(images, f) for f in os.listdir(images) if f.lower().endswith((".jpeg", ".jpg", ".png")))
    encoded = []
    for path in files:
        with open(path, "rb") as handle:
            encoded.append(handle.read())
    pipeline = transforms.Compose([
        transforms.Resize(224),
        transforms.RandomResizedCrop(224, scale=(0.8, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.RandomVerticalFlip(),
        transforms.RandomRotation(180),
        transforms.RandomApply([transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    import io

    def one_round():
        for data in encoded:
            image = Image.open(io.BytesIO(data)).convert("RGB")
            tensor = pipeline(image)
            assert tensor.shape[0] == 3

    one_round()
    rates = []
    for r in range(rounds):
        start = time.perf_counter()
        one_round()
        seconds = time.perf_counter() - start
        rates.append(len(encoded) / seconds)
        print(f"round {r + 1}: {len(encoded)} images in {seconds:.2f} s, {rates[-1]:.1f} images/s")
    print(f"median: {statistics.median(rates):.1f} images/s on 1 thread")


def train(steps):
    torch.set_num_threads(2)
    torch.manual_seed(1)
    model = torchvision.models.efficientnet_v2_s(num_classes=5)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(8, 3, 224, 224)
    y = torch.randint(0, 5, (8,))
    times = []
    for step in range(steps + 1):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if step > 0:
            times.append(time.perf_counter() - start)
            print(f"step {step}: {times[-1]:.2f} s")
    median = statistics.median(times)
    print(f"median: {8 / median:.2f} images/s ({median * 1000 / 8:.0f} ms per image)")


if __name__ == "__main__":
    if sys.argv[1] == "prep":
        prep(sys.argv[2], int(sys.argv[3]))
    else:
        train(int(sys.argv[2]))

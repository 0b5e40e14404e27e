#!/usr/bin/python3
"""Reference field circles of fundus photographs, measured independently of RetinaGrade.

Method (differs from RetinaGrade's threshold mask and connected components): the image is
scaled so its long side is 1000 px and the per-pixel maximum of R, G and B is smoothed
with a 5x5 box filter. The field's vertical extent is the run of rows whose maximum is
above background + 25 % of the range. On 15 rows spread over the middle 90 % of that
extent, the left and right field edges are located where the row profile crosses the
level background + 20 % of (that row's 95th percentile - background), interpolated
linearly between pixels. Edges touching the image border are dropped. A circle is fitted
to the edge points by least squares (Kasa).

Usage: /usr/bin/python3 fundus_circles.py IMAGE_DIR > fundus-circles.csv
Output columns: image, width, height, centre_x, centre_y, radius (full-resolution pixels).
"""
import math
import os
import sys

import numpy as np
from PIL import Image


def kasa(points):
    x, y = points[:, 0], points[:, 1]
    a = np.column_stack([x, y, np.ones_like(x)])
    b = -(x * x + y * y)
    d, e, f = np.linalg.lstsq(a, b, rcond=None)[0]
    cx, cy = -d / 2, -e / 2
    return cx, cy, math.sqrt(cx * cx + cy * cy - f)


def crossing(profile, level, forward):
    indices = range(len(profile) - 1) if forward else range(len(profile) - 1, 0, -1)
    for i in indices:
        j = i + 1 if forward else i - 1
        if profile[i] < level <= profile[j]:
            return i + (level - profile[i]) / (profile[j] - profile[i]) * (j - i)
    return None


def measure(path):
    image = Image.open(path).convert("RGB")
    width, height = image.size
    scale = 1000.0 / max(width, height)
    small = image.resize((round(width * scale), round(height * scale)), Image.BILINEAR)
    value = np.asarray(small, dtype=np.float64).max(axis=2)
    kernel = np.ones(5) / 5
    value = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, value)
    value = np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="same"), 0, value)
    h, w = value.shape
    background = np.median(np.concatenate([value[:10, :10].ravel(), value[:10, -10:].ravel(),
                                           value[-10:, :10].ravel(), value[-10:, -10:].ravel()]))
    top_level = background + 0.25 * (np.percentile(value, 95) - background)
    rows = np.where(value.max(axis=1) > top_level)[0]
    first, last = rows.min(), rows.max()
    points = []
    for y in np.linspace(first + 0.05 * (last - first), last - 0.05 * (last - first), 15):
        row = value[int(round(y))]
        level = background + 0.2 * (np.percentile(row, 95) - background)
        left = crossing(row, level, True)
        right = crossing(row, level, False)
        if left is not None and left > 2:
            points.append((left, y))
        if right is not None and right < w - 3:
            points.append((right, y))
    cx, cy, r = kasa(np.array(points))
    return width, height, (cx + 0.5) / scale - 0.5, (cy + 0.5) / scale - 0.5, r / scale


def main():
    folder = sys.argv[1]
    print("image,width,height,centre_x,centre_y,radius")
    for name in sorted(os.listdir(folder)):
        if name.lower().endswith((".jpeg", ".jpg", ".png")):
            width, height, cx, cy, r = measure(os.path.join(folder, name))
            print(f"{name},{width},{height},{cx:.1f},{cy:.1f},{r:.1f}")


if __name__ == "__main__":
    main()

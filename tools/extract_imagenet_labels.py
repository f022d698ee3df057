#!/usr/bin/python3
"""Writes assets/labels/imagenet.txt (one class name per line, index order) from torchvision's metadata."""
import os
from torchvision.models import VGG16_Weights

out = os.path.join(os.path.dirname(__file__), "..", "assets", "labels", "imagenet.txt")
cats = VGG16_Weights.IMAGENET1K_V1.meta["categories"]
assert len(cats) == 1000
with open(out, "w") as f:
    f.write("\n".join(cats) + "\n")
print(f"wrote {len(cats)} labels to {out}")

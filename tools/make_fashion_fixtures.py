#!/usr/bin/python3
"""Samples and reference fixtures for the default model (run after tools/train_default_model.py).

  /usr/bin/python3 tools/make_fashion_fixtures.py

- assets/samples/fashion/<class>-<n>.png: the first 2 test-set images of every class (28x28 greyscale PNG).
- tests/fixtures/fashion_samples.json: PyTorch logits of the exported model for every sample.
- tests/fixtures/fashion_accuracy.json: PyTorch accuracy (overall and per class) on the 10,000 test images.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from safetensors_io import load_safetensors  # noqa: E402
from train_default_model import CLASSES, PlainVGG, load_split  # noqa: E402

MODEL = os.path.join(ROOT, "assets", "models", "fashion-vgg16.safetensors")


def slug(name):
    return name.lower().replace("/", "-").replace(" ", "-")


def main():
    tensors, meta = load_safetensors(MODEL)
    config = json.loads(meta["lrpscope.config"])
    mean, std = config["mean"][0], config["std"][0]
    net = PlainVGG()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    net.eval()

    xte, yte = load_split("test")
    with torch.no_grad():
        pred = torch.cat([net((xte[i:i + 1000] - mean) / std).argmax(1) for i in range(0, len(xte), 1000)])
    acc = float((pred == yte).float().mean())
    per_class = [float((pred[yte == c] == c).float().mean()) for c in range(10)]
    with open(os.path.join(ROOT, "tests", "fixtures", "fashion_accuracy.json"), "w") as f:
        json.dump({"images": len(xte), "accuracy": acc, "per_class": per_class, "labels": CLASSES}, f, indent=1)
    print(f"PyTorch test accuracy {acc:.4f}")

    out_dir = os.path.join(ROOT, "assets", "samples", "fashion")
    os.makedirs(out_dir, exist_ok=True)
    samples = []
    for c in range(10):
        idx = (yte == c).nonzero().flatten()[:2].tolist()
        for n, i in enumerate(idx, start=1):
            name = f"{slug(CLASSES[c])}-{n}.png"
            img = (xte[i, 0, 2:30, 2:30].numpy() * 255.0).round().astype(np.uint8)  # back to the 28x28 original
            Image.fromarray(img, mode="L").save(os.path.join(out_dir, name))
            with torch.no_grad():
                logits = net((xte[i:i + 1] - mean) / std)[0]
            samples.append({"file": f"assets/samples/fashion/{name}", "test_index": i, "label": c,
                            "label_name": CLASSES[c], "logits": [float(v) for v in logits],
                            "predicted": int(logits.argmax())})
    with open(os.path.join(ROOT, "tests", "fixtures", "fashion_samples.json"), "w") as f:
        json.dump({"model": "assets/models/fashion-vgg16.safetensors", "samples": samples}, f, indent=1)
    right = sum(s["predicted"] == s["label"] for s in samples)
    print(f"wrote {len(samples)} samples, {right} predicted right by PyTorch")


if __name__ == "__main__":
    main()

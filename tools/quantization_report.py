#!/usr/bin/python3
"""How much F16 / BF16 / int8 storage changes predictions and heatmaps (`lrpscope convert`), for the model card.

  /usr/bin/python3 tools/quantization_report.py [build/native/lrpscope]

Default model: top-1 agreement and relative L2 of the epsilon-gamma-box input relevance on the 20 samples and on 20
random images. Full-size VGG16 (make-random seed 1, the ImageNet weights are not reachable offline): the same on the
4 bundled photographs and 4 random images.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "native", "lrpscope")


def explain(model, image, out):
    os.makedirs(out, exist_ok=True)
    j = json.loads(subprocess.check_output([CLI, "explain", "--model", model, "--image", image, "--npy-dir", out,
                                            "--json", "--threads", "2"]))
    return j["top"][0]["index"], np.load(os.path.join(out, "relevance_input.npy"))


def report(name, model, images, tmp):
    rows = []
    for dtype in ("f16", "bf16", "int8"):
        q = os.path.join(tmp, f"{name}-{dtype}.safetensors")
        subprocess.check_call([CLI, "convert", "--model", model, "--out", q, "--dtype", dtype], stdout=subprocess.DEVNULL)
        size = os.path.getsize(q)
        agree, errs = 0, []
        for i, im in enumerate(images):
            t0, r0 = explain(model, im, os.path.join(tmp, f"{name}-f32-{i}"))
            t1, r1 = explain(q, im, os.path.join(tmp, f"{name}-{dtype}-{i}"))
            agree += t0 == t1
            errs.append(np.linalg.norm(r1 - r0) / max(1e-30, np.linalg.norm(r0)))
        rows.append((dtype, size, agree, len(images), float(np.median(errs)), float(np.max(errs))))
        os.remove(q)
    print(f"\n{name}: size (fp32 {os.path.getsize(model) / 1e6:.1f} MB) / top-1 agreement / heatmap relative L2 (median, max)")
    for dtype, size, agree, n, med, mx in rows:
        print(f"| {dtype} | {size / 1e6:.1f} MB | {agree}/{n} | {med:.2e} | {mx:.2e} |")


def noise_images(tmp, n, size, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        arr = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        p = os.path.join(tmp, f"noise-{size}-{i}.png")
        Image.fromarray(arr).save(p)
        out.append(p)
    return out


def main():
    tmp = tempfile.mkdtemp()
    fashion = sorted(glob.glob(os.path.join(ROOT, "assets", "samples", "fashion", "*.png")))
    report("default model (fashion-vgg16), 20 samples + 20 random images",
           os.path.join(ROOT, "assets", "models", "fashion-vgg16.safetensors"), fashion + noise_images(tmp, 20, 28, 1), tmp)
    vgg = os.path.join(tmp, "vgg16.safetensors")
    subprocess.check_call([CLI, "make-random", "--arch", "vgg16", "--seed", "1", "--out", vgg, "--threads", "2"],
                          stdout=subprocess.DEVNULL)
    photos = sorted(glob.glob(os.path.join(ROOT, "assets", "samples", "imagenet", "*.png")))
    report("full-size VGG16 (random weights, seed 1), 4 photographs + 4 random images", vgg,
           photos + noise_images(tmp, 4, 256, 2), tmp)


if __name__ == "__main__":
    main()

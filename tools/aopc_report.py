#!/usr/bin/env python3
"""AOPC of every LRP preset on the default model's 20 samples (pixel flipping, `lrpscope flip`).

  python3 tools/aopc_report.py [build/native/lrpscope]
"""
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "native", "lrpscope")
MODEL = os.path.join(ROOT, "assets", "models", "fashion-vgg16.safetensors")
PRESETS = ["epsilon-gamma-box", "montavon", "epsilon-plus-flat", "epsilon-alpha2-beta1", "epsilon-alpha2-beta1-flat",
           "lrp0", "epsilon"]
samples = sorted(glob.glob(os.path.join(ROOT, "assets", "samples", "fashion", "*.png")))
print(f"| preset | mean AOPC, LRP order | mean AOPC, random order | LRP better on |")
print("|---|---|---|---|")
for preset in PRESETS:
    lrp, rnd, wins = [], [], 0
    for s in samples:
        out = subprocess.check_output([CLI, "flip", "--model", MODEL, "--image", s, "--composite", preset, "--json"])
        j = json.loads(out)
        lrp.append(j["aopc_lrp"])
        rnd.append(j["aopc_random"])
        wins += j["aopc_lrp"] > j["aopc_random"]
    print(f"| {preset} | {sum(lrp) / len(lrp):.3f} | {sum(rnd) / len(rnd):.3f} | {wins} of {len(samples)} |")

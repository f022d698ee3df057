#!/usr/bin/python3
"""Small random VGG checkpoints as people have them, made with Debian's PyTorch (python3-torch, python3-torchvision),
for lrpscope's loader tests (issue: batch-norm VGGs, .pth files, ONNX models).

Each model is a torchvision VGG (torchvision.models.vgg.make_layers, so the module indices are torchvision's own)
at reduced widths, 32x32 input, 10 classes, with random weights and, for the _bn ones, random BatchNorm2d
statistics; it is run in eval mode on one fixed random input and its logits are kept as the reference.

  /usr/bin/python3 tools/make_checkpoints.py     # tests/fixtures/checkpoints/*.safetensors + reference.safetensors

Written (all small):
  vgg16_bn_tv.safetensors    torchvision key names (features.0, features.1.running_mean, ..., classifier.6)
  vgg11_bn_timm.safetensors  timm key names (pre_logits.fc1 / fc2 as convolutions, head.fc), the same weights as
                             a vgg11_bn whose logits are kept too
  reference.safetensors      input (3x32x32) and logits/<file> (10) for every file above
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models import vgg as tvvgg

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from safetensors_io import save_safetensors  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "checkpoints")
CFGS = {"vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
        "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]}
DIV, HIDDEN, CLASSES, SIZE = 16, 32, 10, 32


def model(arch, bn, seed):
    """A torchvision VGG at 1/DIV widths; its classifier takes the 7x7 average-pooled last feature map."""
    torch.manual_seed(seed)
    cfg = [v if v == "M" else v // DIV for v in CFGS[arch]]
    m = tvvgg.VGG(tvvgg.make_layers(cfg, batch_norm=bn), num_classes=CLASSES, init_weights=True)
    c = cfg[-2]
    m.classifier = nn.Sequential(nn.Linear(c * 49, HIDDEN), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(HIDDEN, HIDDEN), nn.ReLU(True), nn.Dropout(), nn.Linear(HIDDEN, CLASSES))
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(mod.weight, 0, (2.0 / (mod.weight[0].numel())) ** 0.5)
                nn.init.normal_(mod.bias, 0, 0.05)
            if isinstance(mod, nn.BatchNorm2d):  # statistics as after training: not the identity
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.1)
                mod.running_mean.normal_(0, 0.2)
                mod.running_var.uniform_(0.3, 2.0)
    return m.eval()


def config(name):
    return json.dumps({"name": name, "input": {"channels": 3, "height": SIZE, "width": SIZE},
                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "scale": 1 / 255,
                       "color": "rgb", "resize": "resize", "labels": [f"class {i}" for i in range(CLASSES)]})


def tv_state(m):
    return {k: v.detach().numpy().astype(np.float32) for k, v in m.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def timm_state(m):
    """timm's VGG names: the classifier's fc6/fc7 as convolutions over the 7x7 map (pre_logits), fc8 as head.fc."""
    s = tv_state(m)
    c = s["classifier.0.weight"].shape[1] // 49
    out = {k: v for k, v in s.items() if k.startswith("features.")}
    out["pre_logits.fc1.weight"] = s["classifier.0.weight"].reshape(HIDDEN, c, 7, 7)
    out["pre_logits.fc1.bias"] = s["classifier.0.bias"]
    out["pre_logits.fc2.weight"] = s["classifier.3.weight"].reshape(HIDDEN, HIDDEN, 1, 1)
    out["pre_logits.fc2.bias"] = s["classifier.3.bias"]
    out["head.fc.weight"] = s["classifier.6.weight"]
    out["head.fc.bias"] = s["classifier.6.bias"]
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(1, 3, SIZE, SIZE, generator=g)
    ref = {"input": x[0].numpy()}
    for fname, arch, bn, names, seed in [("vgg16_bn_tv", "vgg16", True, tv_state, 1),
                                         ("vgg11_bn_timm", "vgg11", True, timm_state, 2)]:
        m = model(arch, bn, seed)
        with torch.no_grad():
            logits = m(x)[0]
        save_safetensors(os.path.join(OUT, fname + ".safetensors"), names(m), {"lrpscope.config": config(fname)})
        ref["logits/" + fname] = logits.numpy().astype(np.float32)
        print(fname, "logits", " ".join(f"{v:.4f}" for v in logits.tolist()))
    save_safetensors(os.path.join(OUT, "reference.safetensors"), ref, {"about": "tools/make_checkpoints.py"})


if __name__ == "__main__":
    main()

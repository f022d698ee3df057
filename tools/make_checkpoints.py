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
  vgg16_bn_tv.pth            the vgg16_bn's state dict, saved by torch.save (as torchvision's own .pth files)
  vgg11_whole.pt             a whole model, torch.save(model)
  vgg11_f16_dataparallel.pth {"epoch": 3, "state_dict": {"module.features.0.weight": F16, ...}}
  vgg11_strided.pth          a transposed view and a view into a larger storage
  vgg11_legacy.pth           the pre-1.6 format (refused with a sentence)
  vgg11_wrong_shape.pth      conv2's weight takes 3 channels where conv1 gives 4 (refused, naming it)
  evil.pth                   a pickle that calls os.system when pickle.load reads it (refused, nothing run)
  reference.safetensors      input (3x32x32) and logits/<file> (10) for every file above that is read
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


class Evil:
    """Pickles as a call of os.system: a checkpoint that would run a command when unpickled by pickle.load."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/lrpscope-pickle-ran",))


def pth(name, obj, **kw):
    torch.save(obj, os.path.join(OUT, name), **kw)


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(1, 3, SIZE, SIZE, generator=g)
    ref = {"input": x[0].numpy()}

    def keep(fname, m):
        with torch.no_grad():
            logits = m(x)[0]
        ref["logits/" + fname] = logits.numpy().astype(np.float32)
        print(fname, "logits", " ".join(f"{v:.4f}" for v in logits.tolist()))

    for fname, arch, bn, names, seed in [("vgg16_bn_tv", "vgg16", True, tv_state, 1),
                                         ("vgg11_bn_timm", "vgg11", True, timm_state, 2)]:
        m = model(arch, bn, seed)
        keep(fname, m)
        save_safetensors(os.path.join(OUT, fname + ".safetensors"), names(m), {"lrpscope.config": config(fname)})
    # PyTorch files, as torch.save writes them (the zip format)
    bn16 = model("vgg16", True, 1)
    pth("vgg16_bn_tv.pth", bn16.state_dict())                       # a state dict, as torchvision's own files
    plain = model("vgg11", False, 3)
    keep("vgg11_whole.pt", plain)
    pth("vgg11_whole.pt", plain)                                     # a whole model: torch.save(model)
    half = model("vgg11", False, 4).half().float()                   # (the F16 weights' own logits)
    keep("vgg11_f16_dataparallel.pth", half)
    pth("vgg11_f16_dataparallel.pth",                                # F16, nn.DataParallel's prefix, in a container
        {"epoch": 3, "state_dict": {"module." + k: v.half() for k, v in half.state_dict().items()}})
    strided = model("vgg11", False, 5)
    keep("vgg11_strided.pth", strided)
    sd = strided.state_dict()
    w = sd["classifier.6.weight"]
    sd["classifier.6.weight"] = w.t().contiguous().t()              # a transposed view: strides (1, rows)
    assert not sd["classifier.6.weight"].is_contiguous()
    sd["classifier.3.weight"] = torch.cat([sd["classifier.3.weight"], sd["classifier.3.weight"]])[:HIDDEN]
    pth("vgg11_strided.pth", sd)                                     # (and one whose storage is larger than it)
    pth("vgg11_legacy.pth", plain.state_dict(), _use_new_zipfile_serialization=False)
    pth("evil.pth", {"features.0.weight": torch.zeros(4, 3, 3, 3), "payload": Evil()})
    wrong = plain.state_dict()
    wrong["features.3.weight"] = wrong["features.3.weight"][:, :3]   # takes 3 channels where conv1 gives 4
    pth("vgg11_wrong_shape.pth", wrong)
    save_safetensors(os.path.join(OUT, "reference.safetensors"), ref, {"about": "tools/make_checkpoints.py"})


if __name__ == "__main__":
    main()

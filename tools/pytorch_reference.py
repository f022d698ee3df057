#!/usr/bin/python3
"""Reference fixtures from PyTorch (Debian python3-torch) for lrpscope's tests.

  /usr/bin/python3 tools/pytorch_reference.py tiny      # tests/fixtures/tiny_vgg16*.safetensors
  /usr/bin/python3 tools/pytorch_reference.py full      # tests/fixtures/vgg16_seed1_logits.json
  /usr/bin/python3 tools/pytorch_reference.py samples   # assets/samples/imagenet/*.png from skimage

`full` re-creates lrpscope's `make-random --arch vgg16 --seed 1` weights bit for bit with a NumPy copy of its
counter-based generator (src/model/random_weights.cpp), runs torchvision's VGG16 on them and stores the logits,
so the C++ test can generate the same 138M weights at test time instead of committing 528 MB.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(ROOT, "tests", "fixtures")
sys.path.insert(0, HERE)
from safetensors_io import save_safetensors  # noqa: E402

U = np.uint64


def splitmix64(x):
    x = x + U(0x9E3779B97F4A7C15)
    x = (x ^ (x >> U(30))) * U(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> U(27))) * U(0x94D049BB133111EB)
    return x ^ (x >> U(31))


def stream_key(seed, stream):
    s = splitmix64(np.array([seed], dtype=U))
    return splitmix64(s ^ U(stream))[0]


def random_normal(seed, stream, n, std, chunk=1 << 22):
    """lrpscope's fill_normal: float32(std * N(0,1)) for elements 0..n-1 of a stream."""
    key = stream_key(seed, stream)
    std64 = np.float64(np.float32(std))
    out = np.empty(n, dtype=np.float32)
    with np.errstate(over="ignore"):
        for b in range(0, n, chunk):
            i = np.arange(b, min(n, b + chunk), dtype=U)
            h1 = splitmix64(key + U(2) * i)
            h2 = splitmix64(key + U(2) * i + U(1))
            u1 = ((h1 >> U(11)) + U(1)).astype(np.float64) * 2.0 ** -53
            u2 = (h2 >> U(11)).astype(np.float64) * 2.0 ** -53
            z = np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586 * u2)
            out[b:b + len(i)] = (std64 * z).astype(np.float32)
    return out


def vgg_tensor_names(model):
    """(name, shape) in lrpscope's vgg_tensor_shapes order: features then classifier, weight then bias."""
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def full():
    seed = 1
    model = torchvision.models.vgg16()
    sd = {}
    for stream, (name, shape) in enumerate(vgg_tensor_names(model), start=1):
        n = int(np.prod(shape))
        if name.endswith(".bias"):
            sd[name] = torch.zeros(shape)
            continue
        std = np.sqrt(2.0 / (shape[0] * shape[2] * shape[3])) if len(shape) == 4 else 0.01
        sd[name] = torch.from_numpy(random_normal(seed, stream, n, np.float32(std)).reshape(shape))
        print(f"  {name} {shape}", flush=True)
    model.load_state_dict(sd)
    model.eval()
    x = torch.from_numpy(random_normal(7, 1000, 3 * 224 * 224, 1.0).reshape(1, 3, 224, 224))
    with torch.no_grad():
        logits = model(x)[0].double().numpy()
    out = os.path.join(FIX, "vgg16_seed1_logits.json")
    with open(out, "w") as f:
        json.dump({"weights": "make-random --arch vgg16 --seed 1", "input": "random_input(seed 7)",
                   "first_weights": sd["features.0.weight"].flatten()[:4].tolist(),
                   "first_input": x.flatten()[:4].tolist(),
                   "logits": [float(v) for v in logits]}, f)
    print(f"wrote {out}; max |logit| {np.abs(logits).max():.4f}")


def tiny_model():
    torch.manual_seed(1234)
    cfg = [4, 4, "M", 8, 8, "M", 16, 16, 16, "M", 32, 32, 32, "M", 32, 32, 32, "M"]
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    model = torchvision.models.VGG(nn.Sequential(*layers), num_classes=10, init_weights=False)
    model.classifier = nn.Sequential(nn.Linear(32 * 7 * 7, 64), nn.ReLU(True), nn.Dropout(),
                                     nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, 10))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.05)
                m.bias.uniform_(-0.1, 0.1)
    return model.eval()


def tiny():
    from PIL import Image
    import torchvision.transforms as T
    model = tiny_model()
    config = {"name": "tiny-vgg16", "input": {"channels": 3, "height": 64, "width": 64},
              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "scale": 1.0 / 255.0,
              "color": "rgb", "resize": "shorter-crop", "resize_shorter": 73,
              "labels": [f"tiny class {i}" for i in range(10)]}
    tensors = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    save_safetensors(os.path.join(FIX, "tiny_vgg16.safetensors"), tensors,
                     {"lrpscope.config": json.dumps(config)})
    g = torch.Generator().manual_seed(99)
    x_rand = torch.randn(1, 3, 64, 64, generator=g)
    img = Image.open(os.path.join(ROOT, "assets", "samples", "imagenet", "chelsea.png")).convert("RGB")
    tf = T.Compose([T.Resize(73), T.CenterCrop(64), T.ToTensor(), T.Normalize(config["mean"], config["std"])])
    x_img = tf(img)[None]
    with torch.no_grad():
        ref = {"input_random": x_rand[0].numpy(), "logits_random": model(x_rand)[0].numpy(),
               "input_chelsea": x_img[0].numpy(), "logits_chelsea": model(x_img)[0].numpy()}
        # every layer's output for the random input (names as torchvision modules)
        h = x_rand
        for i, m in enumerate(model.features):
            h = m(h)
            ref[f"features.{i}"] = h[0].numpy().copy()
    save_safetensors(os.path.join(FIX, "tiny_vgg16_reference.safetensors"), ref,
                     {"about": "tools/pytorch_reference.py tiny"})
    print("wrote tiny fixtures; logits", ref["logits_random"])


def samples():
    from PIL import Image
    import skimage.data as d
    out = os.path.join(ROOT, "assets", "samples", "imagenet")
    os.makedirs(out, exist_ok=True)
    for name in ["chelsea", "coffee", "astronaut", "rocket"]:
        arr = getattr(d, name)()
        Image.fromarray(arr).convert("RGB").save(os.path.join(out, f"{name}.png"), optimize=True)
        print("wrote", name, arr.shape)


if __name__ == "__main__":
    os.makedirs(FIX, exist_ok=True)
    {"full": full, "tiny": tiny, "samples": samples}[sys.argv[1]]()

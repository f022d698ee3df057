#!/usr/bin/python3
"""Train lrpscope's embedded default model: a VGG16-topology network on Fashion-MNIST.

Run with Debian's PyTorch:  /usr/bin/python3 tools/train_default_model.py [--epochs N] [--out FILE]

Architecture: the VGG16 topology (13 conv 3x3 + ReLU in blocks of 2,2,3,3,3, each block ended by 2x2 max-pool,
then fc6, fc7 with ReLU and fc8), at a quarter of VGG16's widths: conv 16,32,64,128,128; fc 256,256,10.
Input 1x32x32 (the 28x28 images padded by 2 with the background value 0).
Training uses batch-norm after every conv; before export the batch-norm is folded into the convolutions, so the
exported model is a plain VGG16 (torchvision key names, no batch-norm), and its accuracy is measured again.
Data: Debian package dataset-fashion-mnist, read directly from /usr/share/datasets/fashion-mnist.
"""
import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_safetensors  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CONV_WIDTHS = [16, 32, 64, 128, 128]
BLOCKS = [2, 2, 3, 3, 3]
FC = [256, 256, 10]


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(kind):
    prefix = "train" if kind == "train" else "t10k"
    x = read_idx(f"{prefix}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))  # 28x28 -> 32x32, background 0
    return torch.from_numpy(x[:, None]), torch.from_numpy(y)


class TrainNet(nn.Module):
    """VGG16 topology with batch-norm (training only)."""

    def __init__(self):
        super().__init__()
        layers = []
        cin = 1
        for width, n in zip(CONV_WIDTHS, BLOCKS):
            for _ in range(n):
                layers += [nn.Conv2d(cin, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
                cin = width
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(cin, FC[0]), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(FC[0], FC[1]), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(FC[1], FC[2]))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class PlainVGG(nn.Module):
    """The exported model: torchvision's VGG16 layout without batch-norm and without the adaptive pool."""

    def __init__(self):
        super().__init__()
        layers = []
        cin = 1
        for width, n in zip(CONV_WIDTHS, BLOCKS):
            for _ in range(n):
                layers += [nn.Conv2d(cin, width, 3, padding=1), nn.ReLU(inplace=True)]
                cin = width
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(cin, FC[0]), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(FC[0], FC[1]), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(FC[1], FC[2]))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def fold(train_net):
    """Fold each conv+batch-norm pair into one conv with bias."""
    plain = PlainVGG()
    convs_t = [m for m in train_net.features if isinstance(m, nn.Conv2d)]
    bns = [m for m in train_net.features if isinstance(m, nn.BatchNorm2d)]
    convs_p = [m for m in plain.features if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for ct, bn, cp in zip(convs_t, bns, convs_p):
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            cp.weight.copy_(ct.weight * scale[:, None, None, None])
            cp.bias.copy_(bn.bias - bn.running_mean * scale)
        for lt, lp in zip(train_net.classifier, plain.classifier):
            if isinstance(lt, nn.Linear):
                lp.weight.copy_(lt.weight)
                lp.bias.copy_(lt.bias)
    return plain


def evaluate(net, x, y, mean, std, batch=1000):
    net.eval()
    correct = torch.zeros(10, dtype=torch.long)
    total = torch.zeros(10, dtype=torch.long)
    with torch.no_grad():
        for i in range(0, len(x), batch):
            pred = net((x[i:i + batch] - mean) / std).argmax(1)
            yy = y[i:i + batch]
            for c in range(10):
                m = yy == c
                total[c] += m.sum()
                correct[c] += (pred[m] == c).sum()
    return correct.sum().item() / total.sum().item(), (correct.float() / total.float()).tolist()


def augment(xb):
    # random horizontal flip and a random shift of up to 2 pixels (pad with background, crop back)
    flip = torch.rand(xb.shape[0]) < 0.5
    xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
    padded = F.pad(xb, (2, 2, 2, 2))
    out = torch.empty_like(xb)
    dx = torch.randint(0, 5, (xb.shape[0],))
    dy = torch.randint(0, 5, (xb.shape[0],))
    for i in range(xb.shape[0]):
        out[i] = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
    return out


def git_commit():
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        return subprocess.check_output(["git", "-C", here, "rev-parse", "HEAD"], text=True).strip()
    except Exception:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=20241207)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke test)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "assets", "models",
                                                  "fashion-vgg16.safetensors"))
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = load_split("train")
    xte, yte = load_split("test")
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    mean = float(xtr.mean())
    std = float(xtr.std())
    print(f"train {len(xtr)} test {len(xte)} mean {mean:.6f} std {std:.6f}", flush=True)

    net = TrainNet()
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = (len(xtr) + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.2)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(xtr), generator=gen)
        loss_sum, n_seen, correct = 0.0, 0, 0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            xb = (augment(xtr[idx]) - mean) / std
            yb = ytr[idx]
            out = net(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            n_seen += len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        acc, _ = evaluate(net, xte, yte, mean, std)
        print(f"epoch {epoch + 1}/{args.epochs} loss {loss_sum / n_seen:.4f} train_acc {correct / n_seen:.4f} "
              f"test_acc {acc:.4f} elapsed {time.time() - t0:.0f}s", flush=True)

    acc_bn, _ = evaluate(net, xte, yte, mean, std)
    plain = fold(net)
    acc, per_class = evaluate(plain, xte, yte, mean, std)
    print(f"test accuracy with batch-norm {acc_bn:.4f}, folded {acc:.4f}", flush=True)
    print("per-class: " + ", ".join(f"{c} {a:.4f}" for c, a in zip(CLASSES, per_class)), flush=True)

    config = {
        "name": "fashion-vgg16",
        "input": {"channels": 1, "height": 32, "width": 32},
        "mean": [mean], "std": [std], "scale": 1.0 / 255.0,
        "color": "gray", "resize": "fit", "content_size": 28,
        "background": "dark",
        "note": "light objects on a dark background (Fashion-MNIST); invert photos of garments on a light background",
        "labels": CLASSES,
    }
    meta = {
        "lrpscope.config": json.dumps(config),
        "lrpscope.training": json.dumps({
            "script": "tools/train_default_model.py", "commit": git_commit(), "epochs": args.epochs,
            "batch": args.batch, "lr": args.lr, "seed": args.seed, "test_accuracy": acc,
            "test_accuracy_batchnorm": acc_bn, "per_class_accuracy": per_class,
            "training_seconds": round(time.time() - t0)}),
    }
    tensors = {k: v.detach().contiguous().float().numpy() for k, v in plain.state_dict().items()}
    save_safetensors(args.out, tensors, meta)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

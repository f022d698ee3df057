#!/usr/bin/python3
"""Independent LRP reference (Debian python3-torch) for lrpscope's tests.

A different code path from the C++ engine: every rule is computed with the autograd "gradient x input"
construction of the LRP tutorial (Montavon et al.): build the modified forward z with autograd, divide the
upper relevance by the stabilised z (detached), back-propagate z * s and multiply the gradient by the input.
Definitions: docs/background.md §2 and zennit's rules (stabiliser eps * sign(z), sign(0) = +1).

  /usr/bin/python3 tools/reference_lrp.py fixtures [tiny fashion vgg16_bn vgg11_bn_zoo]   # tests/fixtures/lrp_reference_NAME.safetensors
  /usr/bin/python3 tools/reference_lrp.py rules         # tests/fixtures/lrp_reference_rules.safetensors
  /usr/bin/python3 tools/reference_lrp.py ties [LRPSCOPE] [--fixture]   # max-pool ties on a full-size VGG16
  /usr/bin/python3 tools/reference_lrp.py check M.safetensors IMAGE_TENSOR.npy NPY_DIR PRESET MAXPOOL
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402

PRESETS = ["epsilon-gamma-box", "montavon", "epsilon-plus-flat", "epsilon-alpha2-beta1",
           "epsilon-alpha2-beta1-flat", "lrp0", "epsilon"]
SUBSAMPLE = 512


def stabilize(z, eps):
    """z + eps * sign(z), sign(0) = +1 (zennit)."""
    if eps == 0:
        return z
    return z + ((z == 0).to(z) + z.sign()) * eps


def safe_div(r, z, eps):
    zs = stabilize(z, eps)
    if eps == 0:
        return torch.where(zs == 0, torch.zeros_like(r), r / torch.where(zs == 0, torch.ones_like(zs), zs))
    return r / zs


class Net:
    """A torchvision-style VGG as a list of layers: ('conv', w, b), ('relu',), ('maxpool',), ('avgpool', n),
    ('flatten',), ('linear', w, b); names as torchvision modules."""

    def __init__(self, path, input_size=None):
        t, meta = load_safetensors(path)
        self.config = json.loads(meta.get("lrpscope.config", "{}"))
        inp = self.config.get("input", {})
        self.c = inp.get("channels", 3)
        self.h = input_size or inp.get("height", 224)
        # a batch-norm VGG (vgg16_bn): conv, bn, relu; each BatchNorm2d merged into its convolution in float64
        # (zennit's SequentialMergeBatchNorm), the torchvision module names kept
        bn = any(k.endswith(".running_mean") for k in t)
        bn_eps = float(meta.get("lrpscope.bn_eps", 1e-5))  # (BatchNorm2d's default; an ONNX model says its own)
        step = 3 if bn else 2
        conv_idx = sorted(int(k.split(".")[1]) for k in t
                          if k.startswith("features.") and k.endswith(".weight") and t[k].ndim == 4)
        fc_idx = sorted(int(k.split(".")[1]) for k in t if k.startswith("classifier.") and k.endswith(".weight"))
        self.layers = []
        prev = None
        for i in conv_idx:
            if prev is not None and i - prev == step + 1:
                self.layers.append(("maxpool", f"features.{prev + step}"))
            w = t[f"features.{i}.weight"].astype(np.float64)
            b = t.get(f"features.{i}.bias", np.zeros(w.shape[0])).astype(np.float64)
            if bn:
                n = f"features.{i + 1}."
                k = t[n + "weight"].astype(np.float64) / np.sqrt(t[n + "running_var"].astype(np.float64) + bn_eps)
                w = w * k[:, None, None, None]
                b = (b - t[n + "running_mean"].astype(np.float64)) * k + t[n + "bias"].astype(np.float64)
            self.layers.append(("conv", f"features.{i}", torch.from_numpy(w), torch.from_numpy(b)))
            self.layers.append(("relu", f"features.{i + step - 1}"))
            prev = i
        self.layers.append(("maxpool", f"features.{prev + step}"))
        c_last = t[f"features.{prev}.weight"].shape[0]
        fin = t[f"classifier.{fc_idx[0]}.weight"].shape[1]
        side = int(round((fin // c_last) ** 0.5))
        feat = self.h >> 5
        if side != feat:
            self.layers.append(("avgpool", "avgpool", side))
        self.layers.append(("flatten", "flatten"))
        for n, i in enumerate(fc_idx):
            self.layers.append(("linear", f"classifier.{i}", torch.from_numpy(t[f"classifier.{i}.weight"]),
                                torch.from_numpy(t[f"classifier.{i}.bias"])))
            if n + 1 < len(fc_idx):
                self.layers.append(("relu", f"classifier.{i + 1}"))

    def forward(self, x):
        acts = [x]
        for L in self.layers:
            acts.append(apply(L, acts[-1]))
        return acts


def apply(L, x, w=None, b=None, nobias=False):
    kind = L[0]
    if kind == "conv":
        w = L[2] if w is None else w
        b = (L[3] if b is None else b) if not nobias else None
        return F.conv2d(x, w, b, padding=1)
    if kind == "linear":
        w = L[2] if w is None else w
        b = (L[3] if b is None else b) if not nobias else None
        return F.linear(x, w, b)
    if kind == "relu":
        return x.clamp(min=0)
    if kind == "maxpool":
        return F.max_pool2d(x, 2, 2)
    if kind == "avgpool":
        return F.adaptive_avg_pool2d(x, L[2])
    if kind == "flatten":
        return x.reshape(1, -1)
    raise ValueError(kind)


def leaf(x):
    return x.detach().clone().requires_grad_(True)


def rule_for(preset, net, index):
    """(rule name, params) of weighted layer `index` (position in net.layers) under a preset."""
    weighted = [i for i, L in enumerate(net.layers) if L[0] in ("conv", "linear")]
    first = weighted[0]
    L = net.layers[index]
    conv = L[0] == "conv"
    block = sum(1 for M in net.layers[:index] if M[0] == "maxpool")
    if preset == "epsilon-gamma-box":
        return ("zbox", {}) if index == first else ("gamma", {"gamma": 0.25}) if conv else ("epsilon", {"eps": 1e-6})
    if preset == "montavon":
        if index == first:
            return ("zbox", {})
        if not conv:
            return ("zero", {})
        return ("gamma_classic", {"gamma": 0.25}) if block < 3 else ("epsilon", {"eps": 1e-9, "rms": 0.25})
    if preset == "epsilon-plus-flat":
        return ("flat", {}) if index == first else ("zplus", {}) if conv else ("epsilon", {"eps": 1e-6})
    if preset == "epsilon-alpha2-beta1":
        return ("alphabeta", {"alpha": 2.0, "beta": 1.0}) if conv else ("epsilon", {"eps": 1e-6})
    if preset == "epsilon-alpha2-beta1-flat":
        return ("flat", {}) if index == first else ("alphabeta", {"alpha": 2.0, "beta": 1.0}) if conv else \
            ("epsilon", {"eps": 1e-6})
    if preset == "lrp0":
        return ("zero", {})
    if preset == "epsilon":
        return ("epsilon", {"eps": 1e-9, "rms": 0.25})
    raise ValueError(preset)


def gxi(outputs_and_s, leaves):
    """Sum over terms of (z_t * s_t), back-propagated: returns the gradient of each leaf."""
    total = sum((z * s.detach()).sum() for z, s in outputs_and_s)
    grads = torch.autograd.grad(total, leaves, allow_unused=True)
    return [torch.zeros_like(l) if g is None else g for l, g in zip(leaves, grads)]


def lrp_weighted(L, a, R, rule, params, net):
    STAB = 1e-6
    w, b = L[2], L[3]
    if not params.get("bias", True):  # the bias takes no relevance: left out of every product (zennit's zero_params)
        b = torch.zeros_like(b)
    wp, wn = w.clamp(min=0), w.clamp(max=0)
    bp, bn = b.clamp(min=0), b.clamp(max=0)
    if rule in ("zero", "epsilon", "sign"):
        x = leaf(a)
        z = apply(L, x, b=b)
        eps = 0.0 if rule == "zero" else params["eps"] + params.get("rms", 0.0) * float((z.detach() ** 2).mean().sqrt())
        s = safe_div(R, z.detach(), eps)
        g, = gxi([(z, s)], [x])
        if rule == "sign":  # SIGN-mu (Gumpfer et al. 2023): sign(x - mu) in place of x, +1 at and above mu
            return torch.where(x.detach() >= params.get("mu", 0.0), 1.0, -1.0).to(g) * g
        return x.detach() * g
    if rule == "gamma_classic":
        gm = params["gamma"]
        x = leaf(a)
        z = apply(L, x, w + gm * wp, b + gm * bp)
        s = safe_div(R, z.detach(), STAB)
        g, = gxi([(z, s)], [x])
        return x.detach() * g
    if rule == "gamma":
        gm = params["gamma"]
        xp, xn = leaf(a.clamp(min=0)), leaf(a.clamp(max=0))
        out0 = apply(L, xp, w + gm * wp, b + gm * bp)
        out1 = apply(L, xn, w + gm * wn, nobias=True)
        out2 = apply(L, xp, w + gm * wn, b + gm * bn)
        out3 = apply(L, xn, w + gm * wp, nobias=True)
        z = apply(L, a)  # the mask: the layer's own output, with its bias (zennit's NoMod())
        sp = R * (z > 0).to(R) / stabilize((out0 + out1).detach(), STAB)
        sn = R * (z < 0).to(R) / stabilize((out2 + out3).detach(), STAB)
        gp, gn = gxi([(out0 + out1, sp), (out2 + out3, sn)], [xp, xn])
        return xp.detach() * gp + xn.detach() * gn
    if rule in ("alphabeta", "zplus"):
        alpha, beta = (params["alpha"], params["beta"]) if rule == "alphabeta" else (1.0, 0.0)
        xp, xn = leaf(a.clamp(min=0)), leaf(a.clamp(max=0))
        zp = apply(L, xp, wp, bp) + apply(L, xn, wn, nobias=True)
        sp = R / stabilize(zp.detach(), STAB)
        gp, gn = gxi([(zp, sp)], [xp, xn])
        rel = alpha * (xp.detach() * gp + xn.detach() * gn)
        if beta:
            xp2, xn2 = leaf(a.clamp(min=0)), leaf(a.clamp(max=0))
            zn = apply(L, xp2, wn, bn) + apply(L, xn2, wp, nobias=True)
            sn = R / stabilize(zn.detach(), STAB)
            gp2, gn2 = gxi([(zn, sn)], [xp2, xn2])
            rel = rel - beta * (xp2.detach() * gp2 + xn2.detach() * gn2)
        return rel
    if rule == "zbox":
        mean, std = net.config.get("mean", [0.485, 0.456, 0.406]), net.config.get("std", [0.229, 0.224, 0.225])
        scale = net.config.get("scale", 1 / 255)
        c = a.shape[1]
        lo = torch.tensor([(0 - mean[i % len(mean)]) / std[i % len(std)] for i in range(c)]).view(1, c, 1, 1)
        hi = torch.tensor([(255 * scale - mean[i % len(mean)]) / std[i % len(std)] for i in range(c)]).view(1, c, 1, 1)
        x, l, h = leaf(a), leaf(lo.expand_as(a)), leaf(hi.expand_as(a))
        z = apply(L, x, b=b) - apply(L, l, wp, bp) - apply(L, h, wn, bn)
        s = R / stabilize(z.detach(), STAB)
        gx, gl, gh = gxi([(z, s)], [x, l, h])
        return x.detach() * gx + l.detach() * gl + h.detach() * gh
    if rule in ("flat", "wsquare"):
        o = leaf(torch.ones_like(a))
        if rule == "flat":
            z = apply(L, o, torch.ones_like(w), nobias=True)
        else:
            z = apply(L, o, w * w, b * b)
        s = R / stabilize(z.detach(), STAB)
        g, = gxi([(z, s)], [o])
        return g
    raise ValueError(rule)


# Single rules on top of a preset, for the per-rule fixture: "default" replaces every weighted layer's rule (the
# first layer's input is signed: the general forms), "first" only the first layer's. Keys as in the C++ test.
RULE_CASES = {
    "gamma": ("lrp0", "default", "gamma", {"gamma": 0.25}),
    "gamma-nobias": ("lrp0", "default", "gamma", {"gamma": 0.5, "bias": False}),
    "gamma-classic": ("lrp0", "default", "gamma_classic", {"gamma": 0.25}),
    "alphabeta": ("lrp0", "default", "alphabeta", {"alpha": 2.0, "beta": 1.0}),
    "alphabeta-3-2-nobias": ("lrp0", "default", "alphabeta", {"alpha": 3.0, "beta": 2.0, "bias": False}),
    "zplus": ("lrp0", "default", "zplus", {}),
    "epsilon-rms": ("lrp0", "default", "epsilon", {"eps": 1e-9, "rms": 0.25}),
    "epsilon-nobias": ("lrp0", "default", "epsilon", {"eps": 0.01, "bias": False}),
    "zbox-nobias": ("epsilon-gamma-box", "first", "zbox", {"bias": False}),
    "lrp0-first": ("epsilon-gamma-box", "first", "zero", {}),
    "wsquare": ("epsilon-gamma-box", "first", "wsquare", {}),
    "flat": ("epsilon-gamma-box", "first", "flat", {}),
    "sign": ("epsilon-gamma-box", "first", "sign", {"eps": 1e-6, "mu": 0.0}),
    "sign-mu": ("epsilon-gamma-box", "first", "sign", {"eps": 1e-6, "mu": 0.5}),
}


def rule_for_case(case, net, index):
    base, where, rule, params = RULE_CASES[case]
    weighted = [i for i, L in enumerate(net.layers) if L[0] in ("conv", "linear")]
    if where == "default" or index == weighted[0]:
        return rule, params
    return rule_for(base, net, index)


# Composites with rules for every layer kind (zennit's layer maps): weighted layers, ReLUs, max-pools, average pools,
# where the backward pass starts (the logit, or 1 for the gradient family) and whether the result is multiplied by
# the input. Keys as in the C++ test (the composites' names).
def _first(net):
    return [i for i, L in enumerate(net.layers) if L[0] in ("conv", "linear")][0]


def _by_kind(conv_rule, fc_rule, first_rule=None):
    def f(net, index):
        if first_rule is not None and index == _first(net):
            return first_rule
        return conv_rule if net.layers[index][0] == "conv" else fc_rule
    return f


EPS = ("epsilon", {"eps": 1e-6})
GRAD = ("gradient", {})
COMPOSITE_CASES = {
    "epsilon-plus": dict(weighted=_by_kind(("zplus", {}), EPS)),
    "epsilon-gamma-sign": dict(weighted=_by_kind(("gamma", {"gamma": 0.25}), EPS, ("sign", {"eps": 1e-6, "mu": 0.0}))),
    "excitation-backprop": dict(weighted=_by_kind(("zplus", {}), ("zplus", {})), relu="gradient", seed="one"),
    "gradient": dict(weighted=_by_kind(GRAD, GRAD), relu="gradient", avgpool="gradient", seed="one"),
    "gradient-x-input": dict(weighted=_by_kind(GRAD, GRAD), relu="gradient", avgpool="gradient", seed="one",
                             times_input=True),
    "guided-backprop": dict(weighted=_by_kind(GRAD, GRAD), relu="guided", avgpool="gradient", seed="one"),
    "deconvnet": dict(weighted=_by_kind(GRAD, GRAD), relu="deconvnet", avgpool="gradient", seed="one"),
    "beta-smooth": dict(weighted=_by_kind(GRAD, GRAD), relu="betasmooth", avgpool="gradient", seed="one"),
}


def explain_composite(net, x, spec, target=None):
    """The relevance of a composite: spec as in COMPOSITE_CASES (weighted(net, index) -> (rule, params); relu, maxpool,
    avgpool, seed, times_input)."""
    acts = net.forward(x)
    logits = acts[-1][0]
    t = int(logits.argmax()) if target is None else target
    R = torch.zeros_like(acts[-1])
    R[0, t] = logits[t] if spec.get("seed", "logit") == "logit" else 1.0
    rel = {}
    for index in range(len(net.layers) - 1, -1, -1):
        L = net.layers[index]
        rel[L[1]] = R.detach()[0].clone()
        a = acts[index].detach()
        kind = L[0]
        if kind in ("conv", "linear"):
            rule, params = spec["weighted"](net, index)
            if rule == "gradient":
                xx = leaf(a)
                g, = gxi([(apply(L, xx), R)], [xx])
                R = g
            else:
                R = lrp_weighted(L, a, R, rule, params, net)
        elif kind == "relu":
            r = spec.get("relu", "pass")
            if r == "gradient":
                R = R * (a > 0).to(R)
            elif r == "guided":
                R = (R * (a > 0).to(R)).clamp(min=0)
            elif r == "deconvnet":
                R = R.clamp(min=0)
            elif r == "betasmooth":
                R = R * torch.sigmoid(10.0 * a)
        elif kind == "flatten":
            R = R.reshape(a.shape)
        elif kind == "maxpool":
            xx = leaf(a)
            if spec.get("maxpool", "wta") == "avg":  # Montavon's recipe: as average pooling
                z = F.avg_pool2d(xx, 2, 2)
                g, = gxi([(z, R / stabilize(z.detach(), 1e-6))], [xx])
                R = xx.detach() * g
            else:
                g, = gxi([(F.max_pool2d(xx, 2, 2), R)], [xx])
                R = g
        elif kind == "avgpool":
            xx = leaf(a)
            z = F.adaptive_avg_pool2d(xx, L[2])
            if spec.get("avgpool", "proportional") == "gradient":
                g, = gxi([(z, R)], [xx])
                R = g
            else:
                g, = gxi([(z, R / stabilize(z.detach(), 1e-6))], [xx])
                R = xx.detach() * g
        R = R.detach()
    if spec.get("times_input"):
        R = R * x
    return t, float(logits[t]), R[0], rel


def explain(net, x, preset, maxpool, target=None):
    """A preset of PRESETS or a case of RULE_CASES, with the max-pools "wta" or "avg"."""
    def weighted(n, index):
        return rule_for_case(preset, n, index) if preset in RULE_CASES else rule_for(preset, n, index)
    return explain_composite(net, x, dict(weighted=weighted, maxpool=maxpool), target)


def subsample_indices(n):
    return (np.arange(min(n, SUBSAMPLE), dtype=np.int64) * 7919) % n if n > SUBSAMPLE else np.arange(n)


def rule_fixtures():
    """Every case of RULE_CASES and COMPOSITE_CASES on the reduced-width random VGG16:
    tests/fixtures/lrp_reference_rules.safetensors."""
    torch.set_default_dtype(torch.float64)
    out_dir = os.path.join(ROOT, "tests", "fixtures")
    net = Net(os.path.join(out_dir, "tiny_vgg16.safetensors"), 32)
    net.layers = [(L[0], L[1], L[2].double(), L[3].double()) if L[0] in ("conv", "linear") else L for L in net.layers]
    g = torch.Generator().manual_seed(5)
    x = torch.randn(1, net.c, net.h, net.h, generator=g, dtype=torch.float64).float().double()
    store = {"input": x[0].float().numpy()}
    meta = {"about": "tools/reference_lrp.py rules", "subsample": str(SUBSAMPLE)}
    kinds = {L[1]: L[0] for L in net.layers}
    for case in list(RULE_CASES) + list(COMPOSITE_CASES):
        if case in COMPOSITE_CASES:
            t, logit, rin, rel = explain_composite(net, x, COMPOSITE_CASES[case])
        else:
            t, logit, rin, rel = explain(net, x, case, "wta")
        store[f"{case}/input"] = rin.float().numpy()
        meta[f"{case}/target"] = str(t)
        meta[f"{case}/logit"] = repr(logit)
        for lname, r in rel.items():
            if kinds[lname] in ("relu", "flatten"):
                continue
            flat = r.flatten().numpy()
            store[f"{case}/{lname}"] = flat[subsample_indices(flat.size)].astype(np.float32)
            meta[f"{case}/{lname}/norm"] = repr(float(np.linalg.norm(flat)))
        print(f"rules {case}: target {t} sum(R_in) {float(rin.sum()):.4f}", flush=True)
    save_safetensors(os.path.join(out_dir, "lrp_reference_rules.safetensors"), store, meta)


def fixtures(which=("tiny", "fashion")):
    torch.set_default_dtype(torch.float64)  # the reference in double precision
    out_dir = os.path.join(ROOT, "tests", "fixtures")
    cases = [("tiny", os.path.join(out_dir, "tiny_vgg16.safetensors"), 32, None),
             ("fashion", os.path.join(ROOT, "assets", "models", "fashion-vgg16.safetensors"), None,
              os.path.join(ROOT, "assets", "samples", "fashion", "sneaker-1.png")),
             # (tools/make_checkpoints.py's torchvision vgg16_bn)
             ("vgg16_bn", os.path.join(out_dir, "checkpoints", "vgg16_bn_tv.safetensors"), 32, None),
             # (the state dict of make_checkpoints.py's vgg11_bn_zoo.onnx: batch norms with epsilon 1e-3)
             ("vgg11_bn_zoo", os.path.join(out_dir, "checkpoints", "vgg11_bn_zoo.safetensors"), 32, None)]
    for name, path, size, image in cases:
        if name not in which:
            continue
        net = Net(path, size)
        net.layers = [(L[0], L[1], L[2].double(), L[3].double()) if L[0] in ("conv", "linear") else L
                      for L in net.layers]
        if image is None:
            g = torch.Generator().manual_seed(5)
            x = torch.randn(1, net.c, net.h, net.h, generator=g, dtype=torch.float64)
        else:
            from PIL import Image
            img = np.asarray(Image.open(image).convert("L"), dtype=np.float64) / 255.0
            img = np.pad(img, 2)
            x = torch.from_numpy((img - net.config["mean"][0]) / net.config["std"][0])[None, None]
        x = x.float().double()
        store = {"input": x[0].float().numpy()}
        meta = {"about": "tools/reference_lrp.py fixtures", "subsample": str(SUBSAMPLE)}
        for preset in PRESETS:
            for mp in ("wta", "avg"):
                t, logit, rin, rel = explain(net, x, preset, mp)
                key = f"{preset}/{mp}"
                store[f"{key}/input"] = rin.float().numpy()
                meta[f"{key}/target"] = str(t)
                meta[f"{key}/logit"] = repr(logit)
                kinds = {L[1]: L[0] for L in net.layers}
                for lname, r in rel.items():
                    if kinds[lname] in ("relu", "flatten"):
                        continue  # the same relevance as the layer below / above
                    flat = r.flatten().numpy()
                    idx = subsample_indices(flat.size)
                    store[f"{key}/{lname}"] = flat[idx].astype(np.float32)
                    meta[f"{key}/{lname}/norm"] = repr(float(np.linalg.norm(flat)))
                    meta[f"{key}/{lname}/sum"] = repr(float(flat.sum()))
                    if r.dim() == 3:
                        store[f"{key}/{lname}/channels"] = r.sum(dim=(1, 2)).float().numpy()
                print(f"{name} {key}: target {t} logit {logit:.4f} sum(R_in) {float(rin.sum()):.4f}", flush=True)
        save_safetensors(os.path.join(out_dir, f"lrp_reference_{name}.safetensors"), store, meta)


if __name__ == "__main__":
    if sys.argv[1] == "fixtures":
        fixtures(sys.argv[2:] or ("tiny", "fashion"))
    if sys.argv[1] == "rules":
        rule_fixtures()


def store_subsample(store, meta, key, ref, samples=16384):
    """A full-size reference as the C++ tests read it: values at (j * 7919) % n, and the full norm."""
    flat = ref.flatten()
    idx = (np.arange(samples, dtype=np.int64) * 7919) % flat.size
    store[key] = flat[idx].astype(np.float32)
    meta[f"{key}/norm"] = repr(float(np.linalg.norm(flat)))


def full(lrpscope):
    """Full-size VGG16 (make-random seed 1) on chelsea at 224x224: our CLI's input relevance against this reference
    for epsilon-gamma-box and montavon; writes a subsampled fixture for the C++ test."""
    import subprocess
    import tempfile
    torch.set_default_dtype(torch.float64)
    d = tempfile.mkdtemp()
    model = os.path.join(d, "vgg16.safetensors")
    subprocess.check_call([lrpscope, "make-random", "--arch", "vgg16", "--seed", "1", "--out", model, "--threads", "2"])
    net = Net(model)
    net.layers = [(L[0], L[1], L[2].double(), L[3].double()) if L[0] in ("conv", "linear") else L for L in net.layers]
    image = os.path.join(ROOT, "assets", "samples", "imagenet", "chelsea.png")
    store, meta = {}, {"about": "tools/reference_lrp.py full", "samples": "16384"}
    for preset, mp in (("epsilon-gamma-box", "wta"), ("montavon", "avg")):
        out = os.path.join(d, preset)
        os.makedirs(out)
        subprocess.check_call([lrpscope, "explain", "--model", model, "--image", image, "--composite", preset,
                               "--npy-dir", out, "--threads", "2"], stdout=subprocess.DEVNULL)
        x = torch.from_numpy(np.load(os.path.join(out, "input.npy")).astype(np.float64))[None]
        mine = np.load(os.path.join(out, "relevance_input.npy")).astype(np.float64)
        t, logit, rin, _ = explain(net, x, preset, mp)
        ref = rin.numpy()
        err = np.linalg.norm(mine - ref) / np.linalg.norm(ref)
        print(f"{preset}/{mp}: target {t} logit {logit:.5f} relative L2 of lrpscope's input relevance {err:.3g}")
        store_subsample(store, meta, f"{preset}/input", ref)
        meta[f"{preset}/target"] = str(t)
        meta[f"{preset}/error_at_generation"] = repr(float(err))
    save_safetensors(os.path.join(ROOT, "tests", "fixtures", "lrp_reference_vgg16_full.safetensors"), store, meta)


if __name__ == "__main__" and sys.argv[1] == "full":
    full(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build", "native", "lrpscope"))


class _DeconvReLU(torch.autograd.Function):
    """ReLU whose backward is the deconvnet's: clamp(min=0) of the incoming signal (zennit's ReLUDeconvNet)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        return g.clamp(min=0)


class _GuidedReLU(torch.autograd.Function):
    """Guided backprop: the ReLU gradient, then clamp(min=0) (zennit's ReLUGuidedBackprop)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return (g * (x > 0).to(g)).clamp(min=0)


def deconv_reference(net, x, layer_name, channel, mode, guided):
    """Reconstruction of one channel of a conv layer's rectified output, down to the input."""
    relu = _GuidedReLU.apply if guided else _DeconvReLU.apply
    h = x.detach().clone().requires_grad_(True)
    cur = h
    for i, L in enumerate(net.layers):
        if L[0] == "relu":
            cur = relu(cur)
        else:
            cur = apply(L, cur)
        if L[0] == "relu" and net.layers[i - 1][1] == layer_name:
            break
    a = cur.detach()[0]
    g = torch.zeros_like(cur)
    fmap = a[channel]
    if mode == "max":
        idx = int(fmap.flatten().argmax())
        g[0, channel].view(-1)[idx] = fmap.flatten()[idx]
    else:
        g[0, channel] = fmap
    rec, = torch.autograd.grad(cur, h, grad_outputs=g)
    return rec[0]


def deconv_fixtures():
    torch.set_default_dtype(torch.float64)
    from PIL import Image
    net = Net(os.path.join(ROOT, "assets", "models", "fashion-vgg16.safetensors"))
    net.layers = [(L[0], L[1], L[2].double(), L[3].double()) if L[0] in ("conv", "linear") else L for L in net.layers]
    img = np.asarray(Image.open(os.path.join(ROOT, "assets", "samples", "fashion", "ankle-boot-1.png")).convert("L"),
                     dtype=np.float64) / 255.0
    x = torch.from_numpy((np.pad(img, 2) - net.config["mean"][0]) / net.config["std"][0])[None, None].float().double()
    store = {"input": x[0].float().numpy()}
    cases = [("features.28", 7), ("features.14", 11), ("features.2", 3)]
    for lname, ch in cases:
        for mode in ("max", "all"):
            for guided in (False, True):
                key = f"{lname}/{ch}/{mode}/{'guided' if guided else 'deconvnet'}"
                store[key] = deconv_reference(net, x, lname, ch, mode, guided).float().numpy()
                print(key, float(store[key].std()))
    save_safetensors(os.path.join(ROOT, "tests", "fixtures", "deconv_reference_fashion.safetensors"), store,
                     {"about": "tools/reference_lrp.py deconv"})


if __name__ == "__main__" and sys.argv[1] == "deconv":
    deconv_fixtures()


def ties(lrpscope, fixture=False):
    """Max-pool ties: a full-size random VGG16 (make-random seed 1) on a picture with flat regions (equal patches give
    equal convolution outputs in exact arithmetic, so max-pool windows tie). Prints the relative L2 of lrpscope's
    relevance against float64 at every layer, next to PyTorch float32's own distance from float64; with fixture=True
    writes tests/fixtures/ties_vgg16_full.safetensors (subsampled references for a C++ test).
    Environment: TIES_IMAGE (default tests/fixtures/images/flat-regions.png; assets/samples/imagenet/rocket.png has
    the near-flat sky where our Winograd rounding moves switches), TIES_PRESETS (comma-separated), TIES_DECONV=0 (skip
    the reconstructions), TIES_ALL=1 (every layer, not the four worst)."""
    import subprocess
    import tempfile
    d = tempfile.mkdtemp()
    model = os.path.join(d, "vgg16.safetensors")
    subprocess.check_call([lrpscope, "make-random", "--arch", "vgg16", "--seed", "1", "--out", model, "--threads", "2"],
                          stdout=subprocess.DEVNULL)
    image = os.environ.get("TIES_IMAGE", os.path.join(ROOT, "tests", "fixtures", "images", "flat-regions.png"))
    net32 = Net(model)
    net64 = Net(model)
    net64.layers = [(L[0], L[1], L[2].double(), L[3].double()) if L[0] in ("conv", "linear") else L
                    for L in net64.layers]
    store, meta = {}, {"about": "tools/reference_lrp.py ties", "samples": "16384"}
    kinds = {L[1]: L[0] for L in net64.layers}

    def rel(a, b):
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))

    presets = os.environ.get("TIES_PRESETS", "epsilon-gamma-box,epsilon-plus-flat,epsilon-alpha2-beta1").split(",")
    for preset in presets:
        out = os.path.join(d, preset)
        os.makedirs(out)
        subprocess.check_call([lrpscope, "explain", "--model", model, "--image", image, "--composite", preset,
                               "--npy-dir", out, "--threads", "2"], stdout=subprocess.DEVNULL)
        x = np.load(os.path.join(out, "input.npy"))
        torch.set_default_dtype(torch.float64)
        t, logit, rin, rel64 = explain(net64, torch.from_numpy(x.astype(np.float64))[None], preset, "wta")
        torch.set_default_dtype(torch.float32)
        _, _, rin32, rel32 = explain(net32, torch.from_numpy(x)[None], preset, "wta", target=t)
        mine = np.load(os.path.join(out, "relevance_input.npy")).astype(np.float64)
        ref = rin.numpy()
        print(f"{preset}: input relevance: lrpscope {rel(mine, ref):.3g}, PyTorch float32 {rel(rin32.double().numpy(), ref):.3g}")
        worst = []
        for lname, r in rel64.items():
            if kinds[lname] in ("relu", "flatten"):
                continue
            m = np.load(os.path.join(out, f"relevance_{lname}.npy")).astype(np.float64)
            worst.append((rel(m, r.numpy()), rel(rel32[lname].double().numpy(), r.numpy()), lname))
        for e, e32, lname in (worst if os.environ.get("TIES_ALL") else sorted(worst, reverse=True)[:4]):
            print(f"    {lname}: lrpscope {e:.3g}, PyTorch float32 {e32:.3g}")
        store_subsample(store, meta, f"{preset}/input", ref)
        meta[f"{preset}/target"] = str(t)
        meta[f"{preset}/float32"] = repr(rel(rin32.double().numpy(), ref))
    for lname, ch in (("features.28", 7), ("features.21", 100)) if os.environ.get("TIES_DECONV", "1") == "1" else ():
        for guided in (False, True):
            key = f"{lname}/{ch}/{'guided' if guided else 'deconvnet'}"
            npy = os.path.join(d, key.replace("/", "_") + ".npy")
            cmd = [lrpscope, "deconv", "--model", model, "--image", image, "--layer", lname, "--channel", str(ch),
                   "--mode", "all", "--npy", npy, "--threads", "2"] + (["--guided"] if guided else [])
            subprocess.check_call(cmd, stdout=subprocess.DEVNULL)
            x = np.load(os.path.join(d, presets[0], "input.npy"))
            torch.set_default_dtype(torch.float64)
            ref = deconv_reference(net64, torch.from_numpy(x.astype(np.float64))[None], lname, ch, "all", guided).numpy()
            torch.set_default_dtype(torch.float32)
            r32 = deconv_reference(net32, torch.from_numpy(x)[None], lname, ch, "all", guided).double().numpy()
            mine = np.load(npy).astype(np.float64).reshape(ref.shape)
            print(f"{key}: lrpscope {rel(mine, ref):.3g}, PyTorch float32 {rel(r32, ref):.3g}")
            store_subsample(store, meta, key, ref)
            meta[f"{key}/float32"] = repr(rel(r32, ref))
    if fixture:
        save_safetensors(os.path.join(ROOT, "tests", "fixtures", "ties_vgg16_full.safetensors"), store, meta)


if __name__ == "__main__" and sys.argv[1] == "ties":
    ties(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build", "native", "lrpscope"),
         fixture="--fixture" in sys.argv)

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
  vgg11_tv.safetensors       the weights of vgg11_whole.pt
  vgg11_timm.pth, vgg11_timm.safetensors, vgg11_bn_timm.pth   timm's key names (the weights of vgg11_whole.pt and
                             of vgg11_bn_timm.safetensors)
  vgg11_legacy.pth           the pre-1.6 format (refused with a sentence)
  vgg11_wrong_shape.pth      conv2's weight takes 3 channels where conv1 gives 4 (refused, naming it)
  evil.pth                   a pickle that calls os.system when pickle.load reads it (refused, nothing run)
ONNX models (torch.onnx.export where it writes the layout; tools/onnx_writer.py for the rest):
  vgg11_tv.onnx              torch.onnx.export of a torchvision vgg11 at 224x224 (its adaptive pool an AveragePool)
  vgg16_bn_tv.onnx           the same of a vgg16_bn (the exporter folds each BatchNorm2d into its Conv)
  vgg11_bn_zoo.onnx          the model zoo's layout: opset 7, BatchNormalization nodes (epsilon 1e-3, spatial 0 as
                             MXNet's exporter wrote them), Flatten
                             before every Gemm, Dropout, a final Softmax; 32x32, no average pool; its state dict
                             as vgg11_bn_zoo.safetensors too ('lrpscope.bn_eps' 1e-3), for the LRP reference
  vgg11_timm.onnx            timm's layout at 224x224: fc6/fc7 as a 7x7 and a 1x1 Conv, GlobalAveragePool, Gemm
  vgg11_bn_timm.onnx         the same with BatchNormalization nodes
  vgg11_matmul.onnx          opset 13, symbolic input size, FLOAT16 convolutions, MatMul + Add, Gemm transB=0,
                             values in float_data, one field per value and int32_data, Reshape by a Constant
  bad_*.onnx                 refused: opset 6, a branch, external data, a quantised model, a wrong shape
  reference.safetensors      input (3x32x32) and logits/<file> (10) for every file above that is read; the
                             224x224 models take input224(c, h, w) = ((31c + 17h + 7w) mod 97) / 48.5 - 1
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
import onnx_writer as ox  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "checkpoints")
CFGS = {"vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
        "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]}
DIV, HIDDEN, CLASSES, SIZE = 16, 32, 10, 32


def model(arch, bn, seed, div=DIV, hidden=HIDDEN):
    """A torchvision VGG at 1/div widths; its classifier takes the 7x7 average-pooled last feature map."""
    torch.manual_seed(seed)
    cfg = [v if v == "M" else v // div for v in CFGS[arch]]
    m = tvvgg.VGG(tvvgg.make_layers(cfg, batch_norm=bn), num_classes=CLASSES, init_weights=True)
    c = cfg[-2]
    m.classifier = nn.Sequential(nn.Linear(c * 49, hidden), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, CLASSES))
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


def flat_model(arch, bn, seed, eps=1e-5, div=DIV, hidden=HIDDEN):
    """A VGG at 1/div widths without the average pool: its classifier takes the last 1x1 map (the zoo's layout)."""
    m = model(arch, bn, seed, div, hidden)
    m.avgpool = nn.Identity()
    torch.manual_seed(seed + 100)
    c = [v for v in CFGS[arch] if v != "M"][-1] // div
    m.classifier[0] = nn.Linear(c, hidden)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.eps = eps
    return m.eval()


def input224():
    c, h, w = np.meshgrid(np.arange(3), np.arange(224), np.arange(224), indexing="ij")
    return torch.from_numpy((((31 * c + 17 * h + 7 * w) % 97) / np.float32(48.5) - 1).astype(np.float32))[None]


def onnx_vgg(m, size, style, eps=1e-5, external=()):
    """A torchvision VGG module as an ONNX graph written by hand. style: 'zoo', 'timm' or 'matmul'."""
    sd = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    nodes, inits, names = [], [], []
    cur = "data"

    def init(name, arr, dtype=ox.FLOAT, how="raw"):
        inits.append(ox.tensor(name, arr, dtype, how, external=name in external))
        names.append(name)
        return name

    def op(kind, ins, **attrs):
        nonlocal cur
        out = f"{kind.lower()}{len(nodes)}"
        nodes.append(ox.node(kind, [cur] + ins, [out], **attrs))
        cur = out

    half = style == "matmul"
    for i, mod in enumerate(m.features):
        if isinstance(mod, nn.Conv2d):
            w = init(f"conv{i}_weight", sd[f"features.{i}.weight"], ox.FLOAT16 if half else ox.FLOAT)
            b = init(f"conv{i}_bias", sd[f"features.{i}.bias"], how="float_fields" if half and i == 0 else "raw")
            op("Conv", [w, b], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
        elif isinstance(mod, nn.BatchNorm2d):
            op("BatchNormalization", [init(f"bn{i}_{p}", sd[f"features.{i}.{q}"]) for p, q in
                                      [("gamma", "weight"), ("beta", "bias"), ("mean", "running_mean"), ("var", "running_var")]],
               epsilon=float(eps), spatial=0 if style == "zoo" else 1)  # (MXNet's exporter wrote 0 for the zoo)
        elif isinstance(mod, nn.ReLU):
            op("Relu", [])
        elif isinstance(mod, nn.MaxPool2d):
            op("MaxPool", [], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    fcs = [sd[f"classifier.{j}.weight"] for j in (0, 3, 6)], [sd[f"classifier.{j}.bias"] for j in (0, 3, 6)]
    if style == "timm":
        c = fcs[0][0].shape[1] // 49
        op("Conv", [init("pre_logits_fc1_w", fcs[0][0].reshape(-1, c, 7, 7)), init("pre_logits_fc1_b", fcs[1][0])],
           kernel_shape=[7, 7], pads=[0, 0, 0, 0])
        op("Relu", [])
        op("Dropout", [], ratio=0.5)
        op("Conv", [init("pre_logits_fc2_w", fcs[0][1][:, :, None, None]), init("pre_logits_fc2_b", fcs[1][1])],
           kernel_shape=[1, 1])
        op("Relu", [])
        op("GlobalAveragePool", [])
        op("Flatten", [], axis=1)
        op("Gemm", [init("head_fc_w", fcs[0][2]), init("head_fc_b", fcs[1][2])], transB=1)
    elif style == "zoo":
        for j in range(3):
            op("Flatten", [])
            op("Gemm", [init(f"dense{j}_weight", fcs[0][j]), init(f"dense{j}_bias", fcs[1][j])], alpha=1.0, beta=1.0, transB=1)
            if j < 2:
                op("Relu", [])
                op("Dropout", [], ratio=0.5)
        op("Softmax", [], axis=1)
    else:  # matmul
        nodes.append(ox.node("Constant", [], ["flat_shape"], value=ox.tensor("flat_shape", np.array([-1, fcs[0][0].shape[1]]), ox.INT64, "int64_data")))
        op("Reshape", ["flat_shape"])
        op("MatMul", [init("fc6_w", fcs[0][0].T, how="float_data")])
        op("Add", [init("fc6_b", fcs[1][0])])
        op("Relu", [])
        op("MatMul", [init("fc7_w", fcs[0][1].T, ox.FLOAT16, "int32_data")])
        nodes.append(ox.node("Add", [init("fc7_b", fcs[1][1]), cur], ["add_fc7"]))
        cur = "add_fc7"
        op("Relu", [])
        op("Gemm", [init("fc8_w", fcs[0][2].T), init("fc8_b", fcs[1][2])], transB=0)
    dims = ["N", 3, "H", "W"] if style == "matmul" else [1, 3, size, size]
    opset, ir = (7, 3) if style == "zoo" else (13, 7)
    inputs = [ox.value_info("data", dims)]
    if style == "zoo":  # (IR 3 lists the initializers among the graph's inputs)
        inputs += [ox.value_info(n, []) for n in names]
    return ox.model(nodes, inits, inputs, [ox.value_info(cur, [1, CLASSES])], opset, ir)


def onnx_save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


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
    torch_timm = lambda st: {k: torch.from_numpy(v) for k, v in st.items()}  # noqa: E731
    save_safetensors(os.path.join(OUT, "vgg11_tv.safetensors"), tv_state(plain), {"lrpscope.config": config("vgg11_tv")})
    pth("vgg11_timm.pth", torch_timm(timm_state(plain)))            # timm's names (logits: vgg11_whole.pt's)
    save_safetensors(os.path.join(OUT, "vgg11_timm.safetensors"), timm_state(plain), {"lrpscope.config": config("vgg11_timm")})
    pth("vgg11_bn_timm.pth", torch_timm(timm_state(model("vgg11", True, 2))))  # (logits: vgg11_bn_timm's)
    pth("vgg11_legacy.pth", plain.state_dict(), _use_new_zipfile_serialization=False)
    pth("evil.pth", {"features.0.weight": torch.zeros(4, 3, 3, 3), "payload": Evil()})
    wrong = plain.state_dict()
    wrong["features.3.weight"] = wrong["features.3.weight"][:, :3]   # takes 3 channels where conv1 gives 4
    pth("vgg11_wrong_shape.pth", wrong)
    # ONNX models
    x224 = input224()

    def keep224(fname, m):
        with torch.no_grad():
            logits = m(x224)[0]
        ref["logits/" + fname] = logits.numpy().astype(np.float32)
        print(fname, "logits", " ".join(f"{v:.4f}" for v in logits.tolist()))

    tv11 = model("vgg11", False, 6)
    keep224("vgg11_tv.onnx", tv11)
    torch.onnx.export(tv11, x224, os.path.join(OUT, "vgg11_tv.onnx"), opset_version=11)
    bn16x = model("vgg16", True, 7)
    keep224("vgg16_bn_tv.onnx", bn16x)
    torch.onnx.export(bn16x, x224, os.path.join(OUT, "vgg16_bn_tv.onnx"), opset_version=13)
    zoo = flat_model("vgg11", True, 8, eps=1e-3)
    keep("vgg11_bn_zoo.onnx", zoo)
    onnx_save("vgg11_bn_zoo.onnx", onnx_vgg(zoo, SIZE, "zoo", eps=1e-3))
    save_safetensors(os.path.join(OUT, "vgg11_bn_zoo.safetensors"), tv_state(zoo),
                     {"lrpscope.config": config("vgg11_bn_zoo"), "lrpscope.bn_eps": "0.001"})
    timm = model("vgg11", False, 9)
    keep224("vgg11_timm.onnx", timm)
    onnx_save("vgg11_timm.onnx", onnx_vgg(timm, 224, "timm"))
    bn_timm = model("vgg11", True, 13)
    keep224("vgg11_bn_timm.onnx", bn_timm)
    onnx_save("vgg11_bn_timm.onnx", onnx_vgg(bn_timm, 224, "timm"))
    mm = flat_model("vgg11", False, 10)
    with torch.no_grad():  # the values as stored: FLOAT16 convolutions and fc7
        for mod in list(mm.features) + [mm.classifier[3]]:
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                mod.weight.copy_(mod.weight.half().float())
    keep("vgg11_matmul.onnx", mm)
    onnx_save("vgg11_matmul.onnx", onnx_vgg(mm, SIZE, "matmul"))
    # refused ones
    small = flat_model("vgg11", False, 11)
    good = onnx_vgg(small, SIZE, "zoo")
    onnx_save("bad_opset6.onnx", good.replace(ox.f_bytes(8, ox.f_varint(2, 7)), ox.f_bytes(8, ox.f_varint(2, 6))))
    w0 = small.state_dict()["features.0.weight"].numpy()
    branch = ox.model([ox.node("Conv", ["data", "w0", "b0"], ["c0"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                       ox.node("Relu", ["c0"], ["r0"]),
                       ox.node("Conv", ["data", "w0", "b0"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
                      [ox.tensor("w0", w0), ox.tensor("b0", np.zeros(w0.shape[0], np.float32))],
                      [ox.value_info("data", [1, 3, SIZE, SIZE])], [ox.value_info("c1", [1, 4, SIZE, SIZE])], 13, 7)
    onnx_save("bad_branch.onnx", branch)
    onnx_save("bad_external.onnx", onnx_vgg(small, SIZE, "zoo", external=("dense0_weight",)))
    quant = ox.model([ox.node("DequantizeLinear", ["q", "s"], ["data"])] + [], [ox.tensor("s", np.ones(1, np.float32))],
                     [ox.value_info("q", [1, 3, SIZE, SIZE])], [ox.value_info("data", [1, 3, SIZE, SIZE])], 13, 7)
    onnx_save("bad_quantised.onnx", quant)
    wrong = flat_model("vgg11", False, 12)
    with torch.no_grad():
        wrong.features[3].weight = nn.Parameter(wrong.features[3].weight[:, :3].clone())
    onnx_save("bad_wrong_shape.onnx", onnx_vgg(wrong, SIZE, "zoo"))
    save_safetensors(os.path.join(OUT, "reference.safetensors"), ref, {"about": "tools/make_checkpoints.py"})
    # seeds for the ONNX fuzz target (scripts/fuzz runs them first): every layout at 1/64 widths, a few KB each
    fuzz = os.path.join(ROOT, "tests", "fuzz", "regressions")
    for style, bn in [("zoo", True), ("matmul", False), ("timm", True)]:
        m = flat_model("vgg11", bn, 20, div=64, hidden=4) if style != "timm" else model("vgg11", bn, 20, div=64, hidden=4)
        with open(os.path.join(fuzz, f"onnx-seed-{style}.onnx"), "wb") as f:
            f.write(onnx_vgg(m, SIZE if style != "timm" else 224, style))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""bench_peers helper: loads a VGG16 safetensors file into torchvision's VGG16, exports it to ONNX (the same
weights lrpscope benchmarks), and times PyTorch's CPU forward pass on one thread (median of N runs).
Prints one JSON line. Usage: export_and_time_pytorch.py WEIGHTS.safetensors OUT.onnx RUNS"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
import torch  # noqa: E402
import torchvision  # noqa: E402
from safetensors_io import load_safetensors  # noqa: E402


def main():
    weights, onnx_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(1)
    model = torchvision.models.vgg16()
    tensors = load_safetensors(weights)
    state = {k: torch.from_numpy(v.copy()) for k, v in (tensors[0] if isinstance(tensors, tuple) else tensors).items()
             if k in model.state_dict()}
    model.load_state_dict(state)
    model.eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    if not os.path.exists(onnx_path):
        torch.onnx.export(model, x, onnx_path, opset_version=13, input_names=['input'], output_names=['logits'])
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1000)
    # gradient x input through autograd (what an autograd-based LRP pays per explanation, epsilon-free LRP-0)
    grad_times = []
    for _ in range(max(1, runs // 2)):
        xi = x.clone().requires_grad_(True)
        t0 = time.perf_counter()
        out = model(xi)
        out[0, out[0].argmax()].backward()
        grad_times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'torch': torch.__version__, 'pytorch_forward_ms': statistics.median(times),
                      'pytorch_forward_backward_ms': statistics.median(grad_times)}))


if __name__ == '__main__':
    main()

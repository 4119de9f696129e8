"""Memory layout and precision of EQ's U-Net on CPU: one training step and one prediction forward.

    .venv/bin/python bench/memory_format.py [--arch resnet18] [--repeats 8] [--threads 2]

Four copies of the same U-Net (same initial weights): NCHW; channels_last weights with NCHW
inputs; channels_last weights and inputs (what ``eq_engine.device.memory_format`` chooses on
CPU); the same under bfloat16 autocast (``eq_engine.device.autocast``; fast only on CPUs with
native bfloat16). Their steps are interleaved so that load on a shared machine hits all alike;
the medians and their ratios to NCHW are printed. Training: AdamW step on a batch of 4 x 128² RGB
crops with cross-entropy. Prediction: one 512² tile in inference mode (EQ's prediction tile).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--repeats", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    import torch

    from eq_engine.device import autocast
    from eq_engine.models.unet import build_unet

    torch.set_num_threads(args.threads)
    cl = torch.channels_last
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 128, 128, generator=gen)
    y = torch.randint(0, 2, (4, 128, 128), generator=gen)
    tile = torch.randn(1, 3, 512, 512, generator=gen)
    torch.manual_seed(0)
    base = build_unet(args.arch, in_channels=3)
    variants = {}
    for name, weights_cl, inputs_cl, bf16 in (
            ("NCHW", False, False, False), ("channels_last weights", True, False, False),
            ("channels_last weights + inputs", True, True, False),
            ("channels_last + bfloat16 autocast", True, True, True)):
        model = build_unet(args.arch, in_channels=3)
        model.load_state_dict(base.state_dict())
        if weights_cl:
            model = model.to(memory_format=cl)
        variants[name] = (model, torch.optim.AdamW(model.parameters(), 1e-3), inputs_cl, bf16)

    def layout(t, inputs_cl):
        return t.contiguous(memory_format=cl) if inputs_cl else t

    def predict(name):
        model, _, inputs_cl, bf16 = variants[name]
        model.eval()
        with torch.inference_mode(), autocast("cpu", enabled=bf16):
            return model(layout(tile, inputs_cl)).float()

    def train_step(name):
        model, opt, inputs_cl, bf16 = variants[name]
        model.train()
        opt.zero_grad()
        with autocast("cpu", enabled=bf16):
            logits = model(layout(x, inputs_cl))
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        opt.step()

    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
    print(f"native bfloat16 (AVX512-BF16) on this CPU: {native}")
    reference = predict("NCHW")
    for name in variants:  # same weights: layouts differ in summation order, bfloat16 in rounding
        print(f"{name}: max |logit difference| from NCHW {float((predict(name) - reference).abs().max()):.2e}")
    timings = {name: {"train": [], "predict": []} for name in variants}
    for name in variants:
        train_step(name)  # warm-up
    for _ in range(args.repeats):
        for name in variants:
            t = time.perf_counter()
            train_step(name)
            timings[name]["train"].append(time.perf_counter() - t)
            t = time.perf_counter()
            predict(name)
            timings[name]["predict"].append(time.perf_counter() - t)
    ref = {k: statistics.median(v) for k, v in timings["NCHW"].items()}
    print(f"{args.arch}, {args.threads} threads, median of {args.repeats}:")
    for name, t in timings.items():
        tr, pr = statistics.median(t["train"]), statistics.median(t["predict"])
        print(f"  {name:34s} train step {tr:.3f} s ({tr / ref['train']:.2f}x)  "
              f"512² forward {pr:.3f} s ({pr / ref['predict']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Epoch time of ``eq_engine.training.train`` vs a plain PyTorch loop doing the same work.

Both sides get the same prepared data (normalised synthetic EM slices), the same crop sampler
and validation tile grid, the same augmentation, model (random-init ResNet U-Net), loss
(CE + Dice), optimiser (AdamW, one-cycle schedule), batch size, device and thread count, and
both compute validation loss and pooled Dice/IoU with ``eq_engine.evaluation.metrics``. What
differs is everything ``train()`` adds: fastai's Learner and callbacks, events, cancel checks,
best-checkpoint bookkeeping (no file is written: ``out=None``). Runs alternate (plain, train,
plain, train, ...) and the first epoch of each run is dropped as warm-up; the ratio compares
median epoch times.

    .venv/bin/python bench/train_overhead.py               # CPU, small
    .venv/bin/python bench/train_overhead.py --device cuda --size 256 --arch resnet34 --batch-size 16
"""

from __future__ import annotations

import argparse
import statistics
import time


def _data(args):
    from eq_engine.data.loaders import prepare_data
    from eq_engine.data.synthetic import make_em_stack

    image, mask = make_em_stack(args.slices, args.image_size, seed=0)
    items = [(f"em_z{z:02d}", image[z], mask[z]) for z in range(image.shape[0])]
    return items, prepare_data(items, scale=1.0, size=args.size, valid_fraction=0.25, seed=0)


def plain_epochs(args, prepared, device) -> list[float]:
    """A hand-written loop: torch DataLoader, AdamW + OneCycleLR, eval with EQ metrics."""
    import torch
    from torch.utils.data import DataLoader

    from eq_engine.data.augment import make_batch_augmenter
    from eq_engine.data.crops import IGNORE
    from eq_engine.data.loaders import CropDataset, TileDataset
    from eq_engine.evaluation.metrics import Confusion, confusion, dice_from_counts, iou_from_counts
    from eq_engine.models.unet import build_unet
    from eq_engine.training.losses import get_loss

    torch.manual_seed(0)
    model = build_unet(args.arch, in_channels=prepared.in_channels).to(device)
    train_ds = CropDataset(prepared.train, size=args.size, crops_per_image=args.crops,
                           positive_fraction=0.5, seed=0)
    train_dl = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, drop_last=True)
    valid_dl = DataLoader(TileDataset(prepared.valid, size=args.size), batch_size=args.batch_size)
    augment, loss_fn = make_batch_augmenter(0), get_loss("ce_dice")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=args.epochs * len(train_dl))
    amp = device.startswith("cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    times = []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        for x, y in train_dl:
            x, y = augment((x.to(device), y.to(device)))
            with torch.autocast("cuda", enabled=amp):
                loss = loss_fn(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            opt.zero_grad()
            sched.step()
            float(loss.detach())  # train() reports every batch loss, which syncs the device too
        model.eval()
        counts, total = Confusion(), 0.0
        with torch.no_grad():
            for x, y in valid_dl:
                x, y = x.to(device), y.to(device)
                with torch.autocast("cuda", enabled=amp):
                    logits = model(x)
                total += float(loss_fn(logits, y)) * len(x)
                prob = torch.softmax(logits.float(), 1)[:, 1]
                keep = y != IGNORE
                counts = counts + confusion((prob >= 0.5)[keep].cpu().numpy(), (y[keep] == 1).cpu().numpy())
        dice_from_counts(counts), iou_from_counts(counts)
        times.append(time.perf_counter() - t0)
    return times


def train_epochs(args, items, device) -> list[float]:
    from eq_engine.config import TrainConfig
    from eq_engine.events import EpochEnd
    from eq_engine.training import train

    times = []
    config = TrainConfig(arch=args.arch, size=args.size, batch_size=args.batch_size,
                         epochs=args.epochs, crops_per_image=args.crops, valid_fraction=0.25,
                         device=device, loss="ce_dice", seed=0)
    train(items, config, on_event=lambda e: times.append(e.seconds) if isinstance(e, EpochEnd) else None)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--size", type=int, default=64, help="crop size")
    p.add_argument("--image-size", type=int, default=128, help="synthetic slice size")
    p.add_argument("--slices", type=int, default=8)
    p.add_argument("--crops", type=int, default=8, help="crops per image and epoch")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    args = p.parse_args()

    import torch

    from eq_engine.device import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device).name
    items, prepared = _data(args)
    plain, ours = [], []
    for _ in range(args.repeats):
        plain += plain_epochs(args, prepared, device)[1:]
        ours += train_epochs(args, items, device)[1:]
    p_med, o_med = statistics.median(plain), statistics.median(ours)
    print(f"device {device}, {torch.get_num_threads()} threads, {args.arch}, crop {args.size}, "
          f"batch {args.batch_size}, {len(prepared.train) * args.crops} crops/epoch, "
          f"{len(prepared.valid)} valid slices")
    print(f"plain torch loop: median epoch {p_med:.3f} s  ({', '.join(f'{t:.2f}' for t in plain)})")
    print(f"eq train():       median epoch {o_med:.3f} s  ({', '.join(f'{t:.2f}' for t in ours)})")
    print(f"ratio train()/plain = {o_med / p_med:.3f} (goal <= 1.15)")


if __name__ == "__main__":
    main()

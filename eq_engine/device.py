"""The only place that chooses the compute device and thread counts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "cpu", "cuda", "cuda:1", "mps"
    kind: str  # "cpu" | "cuda" | "mps"
    description: str
    mixed_precision: bool  # EQ trains and predicts in float16 here (CUDA only)

    @property
    def is_gpu(self) -> bool:
        return self.kind in ("cuda", "mps")


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(preference: str = "auto") -> DeviceInfo:
    """Resolve ``preference`` ("auto", "cpu", "cuda", "cuda:N", "mps") to an available device.

    Raises ConfigError when an explicitly requested accelerator is not available.
    """
    pref = (preference or "auto").lower()
    kind = pref.split(":", 1)[0]
    if kind not in DEVICE_CHOICES:
        raise ConfigError(f"device={preference!r} is not one of {DEVICE_CHOICES} (or 'cuda:N')")
    if kind in ("auto", "cuda") and _cuda_available():
        import torch

        name = pref if pref.startswith("cuda:") else "cuda"
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device={preference!r}: only {torch.cuda.device_count()} CUDA devices")
        return DeviceInfo(name, "cuda", torch.cuda.get_device_name(index), mixed_precision=True)
    if kind == "cuda":
        raise ConfigError(
            "device='cuda' was requested but torch sees no CUDA device; "
            "check `nvidia-smi` and that torch is a CUDA build, or use device='auto'"
        )
    if kind in ("auto", "mps") and _mps_available():
        return DeviceInfo("mps", "mps", "Apple Metal (MPS)", mixed_precision=False)
    if kind == "mps":
        raise ConfigError("device='mps' was requested but torch reports MPS unavailable")
    # CPU bfloat16 trained 0.59x as long but lost 0.08 Dice on held-out mice (BENCHMARKS.md)
    return DeviceInfo("cpu", "cpu", f"CPU ({os.cpu_count()} cores)", mixed_precision=False)


def autocast(device: str, enabled: bool = True) -> Any:
    """The mixed-precision context for ``device`` (a torch device name): float16 autocast on
    CUDA, bfloat16 on CPU (used only by benchmarks: see :func:`pick_device`), nothing elsewhere
    or when not ``enabled``."""
    import contextlib

    import torch

    kind = device.split(":", 1)[0]
    if not enabled or kind not in ("cuda", "cpu"):
        return contextlib.nullcontext()
    return torch.autocast(kind, dtype=torch.float16 if kind == "cuda" else torch.bfloat16)


def memory_format(device: str) -> Any:
    """The tensor layout that runs EQ's U-Nets fastest on ``device`` (a torch device name).

    channels_last (NHWC) on CPU, where oneDNN's convolutions are NHWC: a 4 x 128² training step
    took 0.90x and a 512² forward pass 0.62x the time of NCHW on a 2-core EPYC (BENCHMARKS.md).
    torch's default layout elsewhere, where EQ has not measured it.
    """
    import torch

    return torch.channels_last if device.split(":", 1)[0] == "cpu" else torch.contiguous_format


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def configure_threads(*, leave_one_free: bool = False) -> int:
    """Set torch's intra-op threads; ``leave_one_free`` keeps a core for a GUI event loop."""
    import torch

    n = usable_cores()
    n = max(1, n - 1) if leave_one_free else n
    torch.set_num_threads(n)
    return n

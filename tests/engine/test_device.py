import pytest

from eq_engine import device
from eq_engine.errors import ConfigError


def test_auto_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(device, "_cuda_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    info = device.pick_device("auto")
    assert info.name == "cpu" and not info.is_gpu and not info.mixed_precision


def test_autocast_dtype_per_device():
    import contextlib

    import torch

    conv = torch.nn.Conv2d(1, 1, 1)
    with device.autocast("cpu"):
        assert conv(torch.ones(1, 1, 2, 2)).dtype is torch.bfloat16
    with device.autocast("cpu", enabled=False):
        assert conv(torch.ones(1, 1, 2, 2)).dtype is torch.float32
    assert device.autocast("cuda:0").fast_dtype is torch.float16
    assert isinstance(device.autocast("mps"), contextlib.nullcontext)


def test_explicit_cuda_without_gpu_is_an_error(monkeypatch):
    monkeypatch.setattr(device, "_cuda_available", lambda: False)
    with pytest.raises(ConfigError, match="no CUDA device"):
        device.pick_device("cuda")


def test_unknown_device_named():
    with pytest.raises(ConfigError, match="tpu"):
        device.pick_device("tpu")


def test_threads_leave_a_core_for_the_gui():
    import torch

    before = torch.get_num_threads()
    try:
        n = device.configure_threads(leave_one_free=True)
        assert n == max(1, device.usable_cores() - 1) == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def test_channels_last_on_cpu_only():
    import torch

    assert device.memory_format("cpu") is torch.channels_last
    assert device.memory_format("cuda:1") is device.memory_format("mps") is torch.contiguous_format


@pytest.mark.gpu
def test_cuda_is_picked_when_present():
    assert device.pick_device("auto").kind == "cuda"

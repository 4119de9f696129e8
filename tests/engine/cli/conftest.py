"""Shared fixtures of the CLI tests."""

import pytest
import torch


@pytest.fixture
def quiet_machine(monkeypatch, tmp_path):
    """Run records in tmp_path and one torch thread: CLI training tests stay small and private."""
    monkeypatch.setenv("EQ_RUNS_DIR", str(tmp_path / "runs"))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

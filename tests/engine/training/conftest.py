"""Training tests share one thread policy."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread(request):
    """Tiny tensors gain nothing from threads; on a busy machine they only contend. Slow and
    benchmark runs keep torch's own thread count."""
    before = torch.get_num_threads()
    if not any(request.node.get_closest_marker(m) for m in ("slow", "bench")):
        torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

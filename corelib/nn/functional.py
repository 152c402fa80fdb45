"""corelib.nn.functional: PyTorch's torch.nn.functional on corelib ops."""
from __future__ import annotations

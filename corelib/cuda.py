"""corelib.cuda: PyTorch's ``torch.cuda`` API for the 'cuda' device.

The device itself comes from a backend plugin (``pip install corelib-cuda``); without one, or
without a GPU, ``is_available()`` is False and ``init()`` says what is missing.
"""
from ._device_module import get_device_module as _get_device_module

_module = _get_device_module("cuda")

Stream = _module.Stream
Event = _module.Event
is_available = _module.is_available
is_initialized = _module.is_initialized
init = _module.init
unavailable_reason = _module.unavailable_reason
device_count = _module.device_count
current_device = _module.current_device
set_device = _module.set_device
device = _module.device
get_device_name = _module.get_device_name
synchronize = _module.synchronize
memory_allocated = _module.memory_allocated
max_memory_allocated = _module.max_memory_allocated
memory_reserved = _module.memory_reserved
reset_peak_memory_stats = _module.reset_peak_memory_stats
empty_cache = _module.empty_cache
manual_seed = _module.manual_seed
manual_seed_all = _module.manual_seed_all
seed = _module.seed
seed_all = _module.seed_all
initial_seed = _module.initial_seed
current_stream = _module.current_stream
default_stream = _module.default_stream
stream = _module.stream

"""DataLoader: iterate a dataset in (shuffled) batches.

Loading happens in the main process. ``num_workers > 0`` is accepted for compatibility and
runs in-process as well (so ``get_worker_info()`` is always None and an IterableDataset is
iterated once, not once per worker); ``worker_init_fn`` is never called (there are no workers).
``pin_memory=True`` pins each batch's CPU tensors for ``pin_memory_device`` (default 'cuda');
without that device it warns once and yields unpinned batches, as PyTorch does.

With the default collate function, batches of a TensorDataset (also under Subsets, as from
``random_split``) are gathered with one indexing per tensor instead of per-sample indexing and
``stack``: the same batches, much less per-sample overhead.
"""
from __future__ import annotations

import warnings

import corelib

from ._collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info():
    """Always None: corelib loads data in the main process."""
    return None


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the sampler of an IterableDataset."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Combines a dataset and a sampler into an iterable over batches (PyTorch's signature)."""

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._is_iterable = is_iterable
        self.__initialized = True

    def __setattr__(self, name, value):
        if name in self._FROZEN and getattr(self, "_DataLoader__initialized", False):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _LoaderIter(self)

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)   # TypeError when the stream has no length, as torch
            if self.batch_size is not None:
                if self.drop_last:
                    return length // self.batch_size
                return (length + self.batch_size - 1) // self.batch_size
            return length
        return len(self._index_sampler)


def _tensor_dataset_root(dataset):
    """(TensorDataset, index map) under a chain of Subsets, or (None, None)."""
    maps = []
    while type(dataset) is Subset:
        maps.append(dataset.indices)
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None, None
    return dataset, maps


def _pin_device(loader):
    """The device to pin batches for, or None (with a warning) if it is not available."""
    device = loader.pin_memory_device or "cuda"
    if corelib.get_device_module(device).is_available():
        return device
    warnings.warn(f"'pin_memory' argument is set as true but no accelerator ({device}) is "
                  f"available, then device pinned memory won't be used.", UserWarning,
                  stacklevel=3)
    return None


def _pin(batch, device):
    """``batch`` with every CPU tensor in it pinned (structure kept)."""
    if isinstance(batch, corelib.Tensor):
        return batch.pin_memory(device) if batch.device.type == "cpu" else batch
    if isinstance(batch, (list, tuple)):
        pinned = [_pin(b, device) for b in batch]
        return type(batch)(*pinned) if hasattr(batch, "_fields") else type(batch)(pinned)
    if isinstance(batch, dict):
        return type(batch)((k, _pin(v, device)) for k, v in batch.items())
    return batch


class _LoaderIter:
    """One pass over a DataLoader (``iter(loader)``)."""

    def __init__(self, loader):
        self._loader = loader
        self._dataset = loader.dataset
        self._collate = loader.collate_fn
        self._auto_collation = loader._auto_collation
        self._length = None
        self._pin_device = _pin_device(loader) if loader.pin_memory else None
        if loader._is_iterable:
            self._stream = iter(loader.dataset)
            self._next = self._next_from_stream
        else:
            self._indices = iter(loader._index_sampler)
            self._next = self._next_from_map
        # Fast path, same result as default_collate over per-sample tuples: gather the whole
        # batch from each tensor of a TensorDataset (possibly under Subsets) in one indexing.
        self._root, self._maps = (None, None)
        if self._auto_collation and self._collate is default_collate and \
                not loader._is_iterable:
            self._root, self._maps = _tensor_dataset_root(loader.dataset)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        batch = self._next()
        return _pin(batch, self._pin_device) if self._pin_device else batch

    def _next_from_map(self):
        index = next(self._indices)
        if not self._auto_collation:
            return self._collate(self._dataset[index])
        if self._root is not None:
            return self._gather(index)
        getitems = getattr(self._dataset, "__getitems__", None)
        samples = getitems(index) if callable(getitems) else [self._dataset[i] for i in index]
        return self._collate(samples)

    def _gather(self, indices):
        for mapping in self._maps:
            indices = [mapping[i] for i in indices]
        keys = {}   # one index tensor per device the dataset's tensors live on
        batch = []
        for t in self._root.tensors:
            key = keys.get(t.device)
            if key is None:
                key = keys[t.device] = corelib.tensor(indices, dtype=corelib.int64,
                                                      device=t.device)
            batch.append(t[key])
        return batch

    def _next_from_stream(self):
        if not self._auto_collation:
            return self._collate(next(self._stream))
        batch = []
        for sample in self._stream:
            batch.append(sample)
            if len(batch) == self._loader.batch_size:
                return self._collate(batch)
        if batch and not self._loader.drop_last:
            return self._collate(batch)
        raise StopIteration

"""Samplers: which dataset indices (or batches of indices) a DataLoader visits, in what order.

Randomness comes from ``corelib.randperm`` / ``randint`` / ``multinomial`` with ``generator=``;
without a generator each pass seeds a fresh one from the default generator, so
``corelib.manual_seed`` makes shuffling reproducible (as in PyTorch).
"""
from __future__ import annotations

import corelib

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]

_CHUNK = 32   # indices drawn per randint call when sampling with replacement


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


def _check_bool(value, name, exc=TypeError):
    if not isinstance(value, bool):
        raise exc(f"{name} should be a boolean value, but got {name}={value}")


def _pass_generator(generator):
    """The generator for one pass: ``generator`` or a fresh one seeded from the default."""
    if generator is not None:
        return generator
    seed = int(corelib.randint(0, 2 ** 63 - 1, ()).item())
    return corelib.Generator().manual_seed(seed)


class Sampler:
    """Base class: subclasses implement ``__iter__`` (and ``__len__`` where known)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation, or ``num_samples`` draws with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        _check_bool(replacement, "replacement")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _positive_int(self.num_samples, "num_samples")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        gen = _pass_generator(self.generator)
        count = self.num_samples
        if self.replacement:
            for _ in range(count // _CHUNK):
                yield from corelib.randint(0, n, (_CHUNK,), generator=gen).tolist()
            yield from corelib.randint(0, n, (count % _CHUNK,), generator=gen).tolist()
        else:
            for _ in range(count // n):
                yield from corelib.randperm(n, generator=gen).tolist()
            yield from corelib.randperm(n, generator=gen).tolist()[:count % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in random order, without replacement."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in corelib.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _positive_int(num_samples, "num_samples")
        _check_bool(replacement, "replacement", ValueError)
        weights = corelib.as_tensor(weights, dtype=corelib.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        drawn = corelib.multinomial(self.weights, self.num_samples, self.replacement,
                                    generator=self.generator)
        return iter(drawn.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size, drop_last):
        _positive_int(batch_size, "batch_size")
        _check_bool(drop_last, "drop_last", ValueError)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size

"""DataLoader and default_collate, checked against torch.utils.data on the same inputs."""
import collections

import numpy as np
import pytest

import corelib
from corelib.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset,
                                SequentialSampler, Subset, TensorDataset, default_collate,
                                default_convert, get_worker_info)

Point = collections.namedtuple("Point", "x y")


def to_py(obj):
    """Batches of either library -> comparable Python values (tensors -> (dtype, values))."""
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):
        return (str(obj.dtype).split(".")[-1], obj.tolist())
    if isinstance(obj, dict):
        return {k: to_py(v) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__,) + tuple(to_py(v) for v in obj)
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [to_py(v) for v in obj])
    return obj


def samples(lib):
    """The same list-of-samples batches, built with corelib or torch tensors."""
    t = lib.tensor
    return [
        [t([1.0, 2.0]), t([3.0, 4.0])],
        [t(1, dtype=lib.int8), t(2, dtype=lib.int8)],
        [1.5, 2.5], [1, 2], [True, False], ["a", "b"], [b"x", b"y"],
        [{"a": 1, "b": t([1])}, {"a": 2, "b": t([2])}],
        [(1, 2.0), (3, 4.0)], [[1, 2], [3, 4]],
        [Point(1, t([0.5])), Point(2, t([1.5]))],
        [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)],
        [np.float32(1.5), np.float32(2.5)],
        [(t([1, 2]), {"k": [1.0, 2.0]}), (t([3, 4]), {"k": [3.0, 4.0]})],
    ]


def test_default_collate_matches_torch(torch):
    from torch.utils.data import default_collate as torch_collate
    for ours, ref in zip(samples(corelib), samples(torch)):
        assert to_py(default_collate(ours)) == to_py(torch_collate(ref)), ref


def test_default_collate_dtypes():
    assert default_collate([1.0, 2.0]).dtype == corelib.float64
    assert default_collate([1, 2]).dtype == corelib.int64
    assert default_collate([True, False]).dtype == corelib.bool
    assert default_collate([corelib.tensor([1], dtype=corelib.uint8)] * 3).dtype == corelib.uint8


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float64(2.0), "s")})
    assert isinstance(out["a"], corelib.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert out["b"][0].dtype == corelib.float64 and out["b"][1] == "s"


def make_ds(n=10):
    x = corelib.arange(n * 2, dtype=corelib.float32).reshape(n, 2)
    return TensorDataset(x, corelib.arange(n))


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (10, True),
                                                  (20, False)])
def test_sequential_batches(batch_size, drop_last):
    ds = make_ds()
    loader = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    ys = [y for _, y in batches]
    flat = [v for y in ys for v in y.tolist()]
    kept = 10 - 10 % batch_size if drop_last else 10
    assert flat == list(range(kept))
    for x, y in batches:
        assert x.dtype == corelib.float32 and y.dtype == corelib.int64
        assert x.tolist() == [[2 * v, 2 * v + 1] for v in y.tolist()]


def test_generic_path_equals_tensor_dataset_fast_path():
    class Plain(Dataset):   # same samples, but no TensorDataset fast path
        def __init__(self, base):
            self.base = base

        def __getitem__(self, i):
            return self.base[i]

        def __len__(self):
            return len(self.base)

    ds = make_ds()
    sub = Subset(Subset(ds, [9, 7, 5, 3, 1, 0]), [5, 0, 2, 1])
    for dataset in (ds, sub):
        fast = [to_py(b) for b in DataLoader(dataset, batch_size=3, shuffle=True,
                                             generator=corelib.Generator().manual_seed(3))]
        slow = [to_py(b) for b in DataLoader(Plain(dataset), batch_size=3, shuffle=True,
                                             generator=corelib.Generator().manual_seed(3))]
        assert fast == slow


def test_shuffle_reproducible_and_complete():
    def epoch(seed):
        loader = DataLoader(make_ds(), batch_size=4, shuffle=True,
                            generator=corelib.Generator().manual_seed(seed))
        return [v for _, y in loader for v in y.tolist()]

    assert sorted(epoch(0)) == list(range(10))
    assert epoch(0) == epoch(0) and epoch(0) != epoch(1)


def test_shuffle_follows_manual_seed():
    loader = DataLoader(make_ds(), batch_size=4, shuffle=True)
    corelib.manual_seed(2)
    first = [y.tolist() for _, y in loader]
    second = [y.tolist() for _, y in loader]
    corelib.manual_seed(2)
    assert [y.tolist() for _, y in loader] == first and second != first


def test_custom_sampler_batch_sampler_and_collate():
    ds = make_ds()
    loader = DataLoader(ds, sampler=[9, 8, 7], batch_size=2)
    assert [y.tolist() for _, y in loader] == [[9, 8], [7]]
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=True)
    loader = DataLoader(ds, batch_sampler=bs, collate_fn=lambda b: [int(y) for _, y in b])
    assert list(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(loader) == 2


def test_batch_size_none_converts_samples():
    class Arrays(Dataset):
        def __getitem__(self, i):
            return np.full(2, i)

        def __len__(self):
            return 3

    out = list(DataLoader(Arrays(), batch_size=None))
    assert [o.tolist() for o in out] == [[0, 0], [1, 1], [2, 2]]
    assert all(isinstance(o, corelib.Tensor) for o in out)


def test_getitems_used_for_batches():
    class Batched(Dataset):
        calls = []

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [i * 10 for i in indices]

        def __len__(self):
            return 5

    ds = Batched()
    out = [b.tolist() for b in DataLoader(ds, batch_size=2)]
    assert out == [[0, 10], [20, 30], [40]] and ds.calls == [[0, 1], [2, 3], [4]]


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


@pytest.mark.parametrize("batch_size,drop_last", [(None, False), (1, False), (3, False),
                                                  (3, True)])
def test_iterable_dataset_matches_torch(batch_size, drop_last, torch):
    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    ours = DataLoader(Stream(7), batch_size=batch_size, drop_last=drop_last)
    ref = torch.utils.data.DataLoader(TorchStream(), batch_size=batch_size, drop_last=drop_last)
    assert [to_py(b) for b in ours] == [to_py(b) for b in ref]
    assert len(ours) == len(ref)


def test_iterable_without_len():
    loader = DataLoader(Stream(5, with_len=False), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError):
        len(loader)


BAD_OPTIONS = [
    ({"batch_sampler": [[0]], "batch_size": 2}, ValueError),
    ({"batch_sampler": [[0]], "shuffle": True}, ValueError),
    ({"batch_sampler": [[0]], "drop_last": True}, ValueError),
    ({"sampler": [0], "shuffle": True}, ValueError),
    ({"batch_size": None, "drop_last": True}, ValueError),
    ({"num_workers": -1}, ValueError),
    ({"persistent_workers": True}, ValueError),
    ({"prefetch_factor": 2}, ValueError),
]


@pytest.mark.parametrize("kwargs,exc", BAD_OPTIONS)
def test_option_errors_match_torch(kwargs, exc, torch):
    with pytest.raises(exc):
        torch.utils.data.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(exc):
        DataLoader(list(range(4)), **kwargs)


def test_iterable_rejects_shuffle_and_sampler():
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="sampler"):
        DataLoader(Stream(3), sampler=[0])


def test_frozen_attributes():
    loader = DataLoader(make_ds(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        loader.batch_size = 3
    loader.num_workers = 0   # not frozen


def test_workers_run_in_process():
    assert get_worker_info() is None
    seen = []

    class Probe(Dataset):
        def __getitem__(self, i):
            seen.append(get_worker_info())
            return i

        def __len__(self):
            return 4

    assert [b.tolist() for b in DataLoader(Probe(), batch_size=2, num_workers=2)] == \
        [[0, 1], [2, 3]]
    assert seen == [None] * 4


def test_iterator_len_and_exhaustion():
    it = iter(DataLoader(make_ds(), batch_size=4))
    assert len(it) == 3
    assert len(list(it)) == 3
    with pytest.raises(StopIteration):
        next(it)

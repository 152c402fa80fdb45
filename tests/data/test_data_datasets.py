"""corelib.utils.data datasets and random_split, checked against torch.utils.data."""
import collections

import pytest

import corelib
from corelib.utils.data import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                StackDataset, Subset, TensorDataset, random_split)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Count(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_base_dataset_requires_getitem():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_tensor_dataset_samples_and_len():
    x = corelib.arange(12.).reshape(4, 3)
    y = corelib.tensor([3, 1, 4, 1])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    assert xi.tolist() == x.tolist()[2] and yi.item() == 4
    assert ds[-1][1].item() == 1
    assert ds.tensors[0] is x


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(corelib.zeros(3, 2), corelib.zeros(4))


def test_concat_via_add_and_indexing():
    a, b = Squares(3), Squares(2)
    ds = a + b
    assert isinstance(ds, ConcatDataset)
    assert len(ds) == 5 and ds.cumulative_sizes == [3, 5]
    assert [ds[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert ds[-1] == 1 and ds[-5] == 0
    with pytest.raises(ValueError):
        ds[-6]
    with pytest.raises(IndexError):
        ds[5]


def test_concat_rejects_empty_and_iterable():
    with pytest.raises(AssertionError):
        ConcatDataset([])
    with pytest.raises(AssertionError):
        ConcatDataset([Squares(2), Count(0, 2)])


def test_iterable_add_chains():
    ds = Count(0, 3) + Count(10, 12)
    assert isinstance(ds, ChainDataset)
    assert list(ds) == [0, 1, 2, 10, 11] and len(ds) == 5


def test_stack_dataset():
    ds = StackDataset(Squares(3), Squares(3))
    assert ds[2] == (4, 4) and len(ds) == 3
    kw = StackDataset(a=Squares(2), b=Squares(2))
    assert kw[1] == {"a": 1, "b": 1}
    with pytest.raises(ValueError):
        StackDataset(Squares(2), Squares(3))


def test_subset():
    sub = Subset(Squares(10), [7, 2, 5])
    assert len(sub) == 3
    assert [sub[i] for i in range(3)] == [49, 4, 25]
    assert sub.__getitems__([2, 0]) == [25, 49]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [1 / 3] * 3])
def test_random_split_partitions(lengths, torch):
    ds = Squares(10)
    parts = random_split(ds, lengths, generator=corelib.Generator().manual_seed(0))
    expected = [len(p) for p in torch.utils.data.random_split(range(10), lengths)]
    assert [len(p) for p in parts] == expected
    indices = sorted(i for p in parts for i in p.indices)
    assert indices == list(range(10))


def test_random_split_reproducible_with_generator():
    def split(seed):
        parts = random_split(range(20), [0.5, 0.5], generator=corelib.Generator().manual_seed(seed))
        return [p.indices for p in parts]

    assert split(3) == split(3)
    assert split(3) != split(4)


def test_random_split_uses_default_generator():
    corelib.manual_seed(5)
    first = random_split(range(20), [10, 10])[0].indices
    corelib.manual_seed(5)
    assert random_split(range(20), [10, 10])[0].indices == first


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])


def test_random_split_warns_on_empty_split():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(3), [0.7, 0.3])


def test_namedtuple_fields_survive_subset():
    Pair = collections.namedtuple("Pair", "a b")

    class Pairs(Dataset):
        def __getitem__(self, i):
            return Pair(i, -i)

        def __len__(self):
            return 4

    assert Subset(Pairs(), [3])[0] == Pair(3, -3)

"""Samplers: index coverage, lengths, reproducibility and argument checks (vs torch)."""
import collections

import pytest

import corelib
from corelib.utils.data import (BatchSampler, RandomSampler, SequentialSampler,
                                SubsetRandomSampler, WeightedRandomSampler)


def gen(seed):
    return corelib.Generator().manual_seed(seed)


def test_sequential():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5


def test_random_permutation_and_reproducibility():
    s = RandomSampler(range(50), generator=gen(1))
    first = list(s)
    assert sorted(first) == list(range(50)) and len(s) == 50
    second = list(s)            # the generator advanced: a new permutation
    assert sorted(second) == list(range(50)) and second != first
    assert list(RandomSampler(range(50), generator=gen(1))) == first


def test_random_without_generator_follows_manual_seed():
    corelib.manual_seed(11)
    a = list(RandomSampler(range(30)))
    corelib.manual_seed(11)
    assert list(RandomSampler(range(30))) == a


@pytest.mark.parametrize("num_samples", [7, 50, 123])
def test_random_num_samples_without_replacement(num_samples):
    drawn = list(RandomSampler(range(20), num_samples=num_samples, generator=gen(0)))
    assert len(drawn) == num_samples
    counts = collections.Counter(drawn)
    # whole permutations first, then a partial one: counts differ by at most one
    assert max(counts.values()) - min(counts.values()) <= 1
    assert set(counts) <= set(range(20))


@pytest.mark.parametrize("num_samples", [5, 32, 70])
def test_random_with_replacement(num_samples):
    s = RandomSampler(range(4), replacement=True, num_samples=num_samples, generator=gen(2))
    drawn = list(s)
    assert len(drawn) == len(s) == num_samples
    assert set(drawn) <= {0, 1, 2, 3}


def test_random_with_replacement_repeats():
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=100, generator=gen(3)))
    assert len(set(drawn)) == 3 and len(drawn) == 100


def test_random_sampler_argument_errors(torch):
    for kwargs, exc in [({"replacement": 1}, TypeError), ({"num_samples": 0}, ValueError),
                        ({"num_samples": 2.5}, ValueError)]:
        with pytest.raises(exc):
            torch.utils.data.RandomSampler(range(3), **kwargs)
        with pytest.raises(exc):
            RandomSampler(range(3), **kwargs)


def test_subset_random():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=gen(4))
    drawn = list(s)
    assert sorted(drawn) == [10, 20, 30, 40] and len(s) == 4
    assert list(SubsetRandomSampler([10, 20, 30, 40], generator=gen(4))) == drawn


def test_weighted_with_replacement_follows_weights():
    s = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=gen(5))
    counts = collections.Counter(s)
    assert len(s) == 4000 and sum(counts.values()) == 4000
    assert counts[0] == 0
    assert 0.70 < counts[2] / 4000 < 0.80    # expected 0.75


def test_weighted_without_replacement_distinct():
    drawn = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False, generator=gen(6)))
    assert sorted(drawn) == [0, 1, 2, 3, 4]


def test_weighted_errors(torch):
    cases = [(([[1.0, 2.0]], 2), {}), (([1.0, 2.0], 0), {}),
             (([1.0, 2.0], 2), {"replacement": 1})]
    for args, kwargs in cases:
        with pytest.raises(ValueError):
            torch.utils.data.WeightedRandomSampler(*args, **kwargs)
        with pytest.raises(ValueError):
            WeightedRandomSampler(*args, **kwargs)


@pytest.mark.parametrize("n,size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                               (2, 5, False), (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, size, drop_last, torch):
    ours = BatchSampler(SequentialSampler(range(n)), size, drop_last)
    ref = torch.utils.data.BatchSampler(range(n), size, drop_last)
    assert list(ours) == list(ref)
    assert len(ours) == len(ref)


@pytest.mark.parametrize("kwargs", [{"batch_size": 0, "drop_last": False},
                                    {"batch_size": True, "drop_last": False},
                                    {"batch_size": 2, "drop_last": "no"}])
def test_batch_sampler_errors(kwargs, torch):
    with pytest.raises(ValueError):
        torch.utils.data.BatchSampler(range(3), **kwargs)
    with pytest.raises(ValueError):
        BatchSampler(range(3), **kwargs)

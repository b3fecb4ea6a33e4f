"""The fast array helpers of the step against the plain numpy they replace (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ci_sim.model.model import kth_largest, power, tv_pairwise

# few distinct values, so that ties (the case a faster cut could get wrong) are common
tied = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 1.0]) | st.floats(0, 1)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), rows=st.integers(1, 20), cols=st.integers(1, 12))
def test_kth_largest_is_the_partition_cut(data, rows, cols):
    x = data.draw(arrays(float, (rows, cols), elements=tied))
    k = data.draw(st.integers(1, cols))
    expected = -np.partition(-x, k - 1, axis=1)[:, k - 1 : k]
    np.testing.assert_array_equal(kth_largest(np.asfortranarray(x), k), expected)
    np.testing.assert_array_equal(kth_largest(x, k), expected)


@settings(max_examples=200, deadline=None)
@given(x=arrays(float, (7, 3), elements=st.floats(1e-9, 1)), beta=st.sampled_from([0, 1, 2, 3, 4, 7, 30, 2.5, 0.3]))
def test_power_matches_numpy(x, beta):
    np.testing.assert_allclose(power(x, beta), np.power(x, beta), rtol=1e-12, atol=0)


def _simplex(draw, n, k):
    raw = draw(arrays(float, (n, k), elements=st.floats(0, 1)))
    raw[:, 0] += 1e-3  # never an all-zero row
    return raw / raw.sum(axis=1, keepdims=True)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=st.integers(1, 30), m=st.integers(1, 10), k=st.integers(1, 8))
def test_tv_pairwise_is_half_the_l1_distance(data, n, m, k):
    a, b = _simplex(data.draw, n, k), _simplex(data.draw, m, k)
    expected = 0.5 * np.abs(a[:, None, :] - b[None, :, :]).sum(axis=-1)
    got = tv_pairwise(a, b)
    assert got.shape == (n, m)
    np.testing.assert_allclose(got, expected, atol=1e-12)

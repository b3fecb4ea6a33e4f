"""The kernels' small shared functions against plain numpy (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ci_sim.model.mechanisms.attention import kth_largest
from ci_sim.model.mechanisms.common import power, sat, tv, tv_matrix

# few distinct values, so that ties (the case a faster cut could get wrong) are common
tied = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 1.0]) | st.floats(0, 1)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), cols=st.integers(1, 12))
def test_kth_largest_is_the_partition_cut_and_the_rank_rule(data, cols):
    """The table cut: the n-th largest value (ties counted), and rank_i(b) < n exactly at or above it."""
    x = data.draw(arrays(float, (cols,), elements=tied))
    n = data.draw(st.integers(1, cols))
    cut = -np.partition(-x, n - 1)[n - 1]
    assert kth_largest(x, n, np.empty(n)) == cut
    rank = [(x > x[b]).sum() for b in range(cols)]  # ODD §7.1: rank_i(b) = #{b': pi_ib' > pi_ib}
    assert all((rank[b] < n) == (x[b] >= cut) for b in range(cols))


@settings(max_examples=200, deadline=None)
@given(x=st.floats(1e-9, 1), beta=st.sampled_from([0, 1, 2, 3, 4, 7, 30, 64, 65, 2.5, 0.3]))
def test_power_matches_numpy(x, beta):
    whole = float(beta).is_integer() and 0 <= beta <= 64
    assert np.isclose(power(x, float(beta), whole), np.float64(x) ** np.float64(beta), rtol=1e-13, atol=0)
    assert power(x, float(beta), False) == np.float64(x) ** np.float64(beta)


def _simplex(draw, n, k):
    raw = draw(arrays(float, (n, k), elements=st.floats(0, 1)))
    raw[:, 0] += 1e-3  # never an all-zero row
    return raw / raw.sum(axis=1, keepdims=True)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=st.integers(1, 30), m=st.integers(1, 10), k=st.integers(1, 8))
def test_tv_is_half_the_l1_distance_and_in_unit_interval(data, n, m, k):
    a, b = _simplex(data.draw, n, k), _simplex(data.draw, m, k)
    expected = 0.5 * np.abs(a[:, None, :] - b[None, :, :]).sum(axis=-1)
    got = tv_matrix(a, b)
    assert got.shape == (n, m)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert tv(a[0], b[0]) == got[0, 0]
    assert (got >= 0).all() and (got <= 1 + 1e-12).all()


@given(x=st.floats(0, 1e6), half=st.floats(1e-6, 1e6))
def test_sat_is_half_at_half_and_bounded(x, half):
    assert 0 <= sat(x, half) < 1 or x > 1e15 * half
    assert sat(half, half) == 0.5

"""Optimal binning on counts: values of like rate share a bin, bins respect the minimum size and differ."""

from __future__ import annotations

from icp_mcp.engine.derivation.binning import Item, chi2_sf, heterogeneous, optimal_bins, order_categories


def _bins(items):
    pos = sum(i.positives for i in items)
    return optimal_bins(items, pos, sum(i.n for i in items) - pos)


def test_eight_like_values_share_one_bin_and_two_strong_ones_another():
    weak = [Item(f"w{k}", 300, 60 + k) for k in range(8)]            # ~20% each
    strong = [Item("Software", 400, 240), Item("Fintech", 300, 186)]  # ~60%
    items = order_categories([*strong, *weak], base=0.3)
    bins = _bins(items)
    assert [sorted(i.key for i in b.items) for b in bins] == [sorted(f"w{k}" for k in range(8)),
                                                              ["Fintech", "Software"]]


def test_no_bin_below_the_minimum_size_and_neighbours_differ():
    bands = [Item(k, n, p) for k, (n, p) in enumerate([(500, 50), (40, 8), (600, 180), (700, 210), (30, 20)])]
    bins = _bins(bands)
    total = sum(i.n for i in bands)
    assert all(b.n >= max(20, 0.05 * total) for b in bins)
    rates = [b.positives / b.n for b in bins]
    assert all(abs(a - b) > 0.05 for a, b in zip(rates, rates[1:]))
    assert [i.key for b in bins for i in b.items] == list(range(5)), "bins stay contiguous in band order"


def test_no_signal_gives_one_bin():
    assert len(_bins([Item(k, 400, 100) for k in range(6)])) == 1


def test_chi2_tail_matches_the_table():
    # textbook critical values at 5%: df 1 → 3.841, 2 → 5.991, 10 → 18.307, 30 → 43.773
    for x, df in ((3.841, 1), (5.991, 2), (18.307, 10), (43.773, 30)):
        assert abs(chi2_sf(x, df) - 0.05) < 0.002, df


def test_noise_over_many_values_is_not_heterogeneous_but_a_real_gap_is():
    noise = [Item(k, 60, 18 + (k % 3) - 1) for k in range(20)]  # 28–32% around 30%
    assert not heterogeneous(noise, 0.05)
    assert heterogeneous([*noise, Item("hot", 200, 120)], 0.05)

"""Vectorized column builders: integer codes and day numbers in, Arrow arrays out (no Python loop per row)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def take(vocab: Sequence[str], codes: np.ndarray, null_below_zero: bool = False) -> pa.Array:
    """Map integer codes onto a vocabulary; codes < 0 become NULL when `null_below_zero`."""
    dictionary = pa.array(list(vocab), pa.string())
    if null_below_zero:
        mask = codes < 0
        return dictionary.take(pa.array(np.where(mask, 0, codes), mask=mask))
    return dictionary.take(pa.array(codes))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Stable identifiers such as A0000042 from integer numbers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Concatenate string columns (or constants) row by row; NULL parts are skipped."""
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def num(numbers: np.ndarray) -> pa.Array:
    """Integers as strings."""
    return pc.cast(pa.array(numbers, pa.int64()), pa.string())


def dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 as a date32 column."""
    return pa.array(np.asarray(days, dtype="int64").astype("datetime64[D]"))


def timestamps(seconds: np.ndarray) -> pa.Array:
    """Seconds since 1970-01-01 as a timestamp column."""
    return pa.array(np.asarray(seconds, dtype="int64").astype("datetime64[s]"))


def where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """`values` where `mask` holds, NULL elsewhere."""
    return pc.if_else(pa.array(mask), values, pa.scalar(None, values.type))


def choice(rng: np.random.Generator, probs: Sequence[float], size: int) -> np.ndarray:
    """Draw codes 0..len(probs)-1 with the given (unnormalised) probabilities."""
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum()).astype(np.int32)


def choice_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One code per row from a (rows × options) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1).astype(np.int32)


def group_rank(keys: np.ndarray) -> np.ndarray:
    """Position of each row among the rows with the same key (0 for the first), in row order."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    lengths = np.diff(np.r_[starts, len(keys)])
    rank_sorted = np.arange(len(keys)) - np.repeat(starts, lengths)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = rank_sorted
    return rank


def offsets(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group in a repeated layout (`np.repeat(groups, counts)`)."""
    return np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)


def within(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each group in a repeated layout."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(offsets(counts), counts)

"""The fitted parts of a model: EASE weights, item-item similarity, popularity and metadata features."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.linalg as la
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

_RESERVED_COLUMNS = frozenset({"ITEM_ID", "USER_ID", "CREATION_TIMESTAMP"})
_BLOCK = 256


def popularity(history: sp.csr_matrix) -> np.ndarray:
    """Summed event weight per item: the popularity-count recipe's score."""
    return np.asarray(history.sum(axis=0), dtype=np.float64).ravel()


def fit_ease(history: sp.csr_matrix, *, regularization: float) -> np.ndarray:
    """EASE (Steck 2019): the item × item weights ``B`` minimising ``|X - XB|² + λ|B|²`` with ``diag(B) = 0``.

    Closed form ``B = I - P·diag(1/diag(P))`` with ``P = (XᵀX + λI)⁻¹``; float32, O(items³). The inverse
    runs on one BLAS thread: on a busy 2-core machine two threads measured 3–5× slower (9.7–16 s against
    2.9–3.3 s at 4000 items, load 7), and it leaves a core to serve requests while a model trains.
    """
    x = history.astype(np.float32)
    gram = (x.T @ x).toarray()
    gram[np.diag_indices_from(gram)] += regularization
    with threadpool_limits(limits=1, user_api="blas"):
        inverse = la.inv(gram, overwrite_a=True, check_finite=False)
    weights = inverse / -np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32, copy=False)


def strongest_per_row(weights: np.ndarray, *, keep: int, size: int) -> sp.csr_matrix:
    """The ``keep`` largest-magnitude entries of each row of a dense square matrix, as a sparse
    ``size × size`` matrix (the dense one in its top-left corner)."""
    n = weights.shape[0]
    keep = min(keep, n)
    columns = np.argpartition(-np.abs(weights), keep - 1, axis=1)[:, :keep]
    values = np.take_along_axis(weights, columns, axis=1)
    rows = np.repeat(np.arange(n), keep)
    matrix = sp.csr_matrix((values.ravel(), (rows, columns.ravel())), shape=(size, size), dtype=np.float32)
    matrix.eliminate_zeros()
    return matrix


def fit_item_similarity(
    history: sp.csr_matrix,
    *,
    neighbours: int,
    popularity_discount: float,
    min_cointeractions: int,
) -> sp.csr_matrix:
    """Item-item cosine similarity over users (implicit's CosineRecommender), top ``neighbours`` per item.

    Pairs seen together by fewer than ``min_cointeractions`` users are dropped; ``popularity_discount``
    (0–1) divides each neighbour's similarity by its relative popularity to that power, so popular items
    do not crowd every list.
    """
    from implicit.nearest_neighbours import CosineRecommender
    from implicit.utils import ParameterWarning

    binary = history.copy()
    binary.data[:] = 1.0
    model = CosineRecommender(K=neighbours + 1, num_threads=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParameterWarning)  # implicit converts its own intermediate COO
        model.fit(binary, show_progress=False)
    similarity = model.similarity.tocsr().astype(np.float32)
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    counts = np.asarray(binary.sum(axis=0), dtype=np.float64).ravel()
    if min_cointeractions > 1:
        coo = similarity.tocoo()
        together = coo.data * np.sqrt(counts[coo.row] * counts[coo.col])
        keep = together >= min_cointeractions - 1e-6
        similarity = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=similarity.shape)
    if popularity_discount > 0:
        relative = np.maximum(counts, 1.0) / max(counts.max(), 1.0)
        similarity = similarity @ sp.diags((relative**-popularity_discount).astype(np.float32))
        similarity = similarity.tocsr()
    return similarity.astype(np.float32)


BASKET_GAP_SECONDS = 1800
"""A user's events further apart than this (a web session's usual timeout) fall in different baskets."""


def fit_cooccurrence(
    users: np.ndarray, items: np.ndarray, timestamps: np.ndarray, n_items: int
) -> sp.csr_matrix:
    """Frequently-bought-together: how often two items fall in the same basket, cosine-normalised.

    A basket is a run of one user's events (time-ordered per user, as :class:`~.data.Events` keeps them)
    with no gap over ``BASKET_GAP_SECONDS``. The weight of items i, j is ``baskets(i, j) / sqrt(baskets(i) ·
    baskets(j))``, so a best seller in every basket does not top every item's list; an item never bought
    with another has no neighbours.
    """
    new_basket = np.ones(len(users), dtype=bool)
    new_basket[1:] = (users[1:] != users[:-1]) | (np.diff(timestamps) > BASKET_GAP_SECONDS)
    basket = np.cumsum(new_basket) - 1
    baskets = sp.csr_matrix(
        (np.ones(len(items), dtype=np.float32), (basket, items)), shape=(int(basket[-1]) + 1, n_items)
    )
    baskets.data[:] = 1.0
    together = (baskets.T @ baskets).tocsr()
    together.setdiag(0.0)
    together.eliminate_zeros()
    counts = np.asarray(baskets.sum(axis=0), dtype=np.float64).ravel()
    scale = sp.diags((1.0 / np.sqrt(np.maximum(counts, 1.0))).astype(np.float32))
    return (scale @ together @ scale).tocsr().astype(np.float32)


def metadata_features(frame: pd.DataFrame, *, id_column: str, ids: np.ndarray) -> sp.csr_matrix:
    """TF-IDF weighted, L2-normalised one-hot features of the categorical metadata columns.

    Each text column contributes ``column=value`` tokens (``|`` separates multiple values, as Personalize's
    categorical fields do). Numeric columns and values shared by a single row carry no similarity and are
    left out. Rows follow ``ids``; ids absent from ``frame`` get an empty row.
    """
    columns = [
        column
        for column in frame.columns
        if column not in _RESERVED_COLUMNS and not pd.api.types.is_numeric_dtype(frame[column])
    ]
    position = pd.Index(ids).get_indexer(frame[id_column].astype(str))
    present = position >= 0
    rows: list[np.ndarray] = []
    tokens: list[np.ndarray] = []
    for column in columns:
        values = frame[column].astype("string").to_numpy(dtype=object, na_value="")[present]
        split = pd.Series(values).str.split("|").explode()
        split = split[split.str.len() > 0]
        rows.append(position[present][split.index.to_numpy()])
        tokens.append((column + "=" + split.str.lower()).to_numpy(dtype=object))
    if not rows or sum(len(r) for r in rows) == 0:
        return sp.csr_matrix((len(ids), 0), dtype=np.float32)
    all_rows = np.concatenate(rows)
    vocabulary, codes = np.unique(np.concatenate(tokens).astype(str), return_inverse=True)
    matrix = sp.csr_matrix(
        (np.ones(len(all_rows), dtype=np.float32), (all_rows, codes)), shape=(len(ids), len(vocabulary))
    )
    matrix.data[:] = 1.0
    document_frequency = np.asarray((matrix > 0).sum(axis=0)).ravel()
    n_rows = max(int((np.diff(matrix.indptr) > 0).sum()), 1)
    idf = np.where(document_frequency >= 2, np.log(n_rows / np.maximum(document_frequency, 1)), 0.0)
    matrix = (matrix @ sp.diags(idf.astype(np.float32))).tocsr()
    matrix.eliminate_zeros()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix = sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)) @ matrix
    return matrix.tocsr().astype(np.float32)


def top_k_similarity(
    rows: sp.csr_matrix, columns: sp.csr_matrix, *, neighbours: int, skip_self: bool
) -> sp.csr_matrix:
    """Cosine between every row of ``rows`` and every row of ``columns`` (both L2-normalised), top-k per row.

    Computed in blocks so memory stays at ``block × len(columns)``.
    """
    n_rows, n_cols = rows.shape[0], columns.shape[0]
    data, indices, indptr = [], [], [0]
    transposed = columns.T.tocsc()
    k = min(neighbours, max(n_cols - 1, 1))
    for start in range(0, n_rows, _BLOCK):
        block = (rows[start : start + _BLOCK] @ transposed).toarray()
        if skip_self:
            span = np.arange(start, min(start + _BLOCK, n_rows))
            block[span - start, span] = 0.0
        best = (
            np.argpartition(-block, k - 1, axis=1)[:, :k]
            if n_cols > k
            else np.tile(np.arange(n_cols), (len(block), 1))
        )
        for row_index, candidates in enumerate(best):
            values = block[row_index, candidates]
            positive = values > 0
            indices.append(candidates[positive])
            data.append(values[positive])
            indptr.append(indptr[-1] + int(positive.sum()))
    return sp.csr_matrix(
        (np.concatenate(data) if data else [], np.concatenate(indices) if indices else [], indptr),
        shape=(n_rows, n_cols),
        dtype=np.float32,
    )


def row_normalized(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Scale each row to sum to 1 (empty rows stay empty)."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.where(sums > 0, 1.0 / np.maximum(sums, 1e-12), 0.0).astype(np.float32)
    return (sp.diags(scale) @ matrix).tocsr()


def blend_similarity(
    behaviour: sp.csr_matrix, metadata: sp.csr_matrix, *, metadata_weight: float
) -> sp.csr_matrix:
    """``(1 - w)·behaviour + w·metadata``, each scaled so its strongest link per item is 1."""

    def peak_scaled(matrix: sp.csr_matrix) -> sp.csr_matrix:
        peaks = np.asarray(matrix.max(axis=1).toarray()).ravel()
        return (
            sp.diags(np.where(peaks > 0, 1.0 / np.maximum(peaks, 1e-12), 0.0).astype(np.float32)) @ matrix
        ).tocsr()

    return ((1 - metadata_weight) * peak_scaled(behaviour) + metadata_weight * peak_scaled(metadata)).tocsr()


def segment_popularity(user_features: sp.csr_matrix, history: sp.csr_matrix) -> sp.csr_matrix:
    """Per user-metadata value, the summed history of the users having it (features × items)."""
    binary = user_features.copy()
    binary.data[:] = 1.0
    return (binary.T @ history).tocsr().astype(np.float32)


TREND_PERIODS = 8
"""Intervals before the latest one that form an item's baseline share."""
TREND_DECAY = 0.5
"""Weight of each older baseline interval relative to the next newer one (a one-interval half-life)."""


def trending(
    item_codes: np.ndarray, timestamps: np.ndarray, n_items: int, *, end: float, interval: float
) -> np.ndarray | None:
    """The Trending-Now score of every item at time ``end``: how far its latest interval outgrew its past.

    Interactions fall into intervals of ``interval`` seconds ending at ``end`` (k = 0 is ``(end - interval,
    end]``, k = 1 the one before, ...; later interactions wait for the next evaluation). With ``c_k`` an
    item's count in interval k and ``n_k`` all items' count:

    - baseline share ``b = Σ_{k=1..P} d^(k-1)·c_k / Σ_{k=1..P} d^(k-1)·n_k`` (P = ``TREND_PERIODS``,
      d = ``TREND_DECAY``): the item's time-decayed share of the intervals before the latest;
    - expected latest count ``e = b·n_0``; damping ``m`` = the mean latest count of the items active in it;
    - score ``(c_0 - e) / (e + m)``: relative growth, in (-1, ∞).

    Why this form: shares rather than counts, so a busier hour overall does not make every item "rise";
    a decayed baseline with a one-interval half-life, so an item trends against its recent level rather
    than its all-time one, and a spike two intervals ago stops counting quickly; relative growth, as the
    recipe ranks "the greatest rate of increase", damped by a typical item's volume so that 0 → 2
    interactions does not outrank 100 → 300. Items without interactions in the window score -1, below
    every item that had some. When the latest interval is empty the one before it is measured instead;
    when both are empty there is no trend and None is returned (the recipe then recommends popular items).
    """
    age = end - timestamps.astype(np.float64)
    period = np.ceil(age / interval).astype(np.int64) - 1
    inside = (age >= 0) & (period <= TREND_PERIODS + 1)
    period = np.maximum(period[inside], 0)
    counts = np.bincount(
        period * n_items + item_codes[inside], minlength=(TREND_PERIODS + 2) * n_items
    ).reshape(TREND_PERIODS + 2, n_items)
    totals = counts.sum(axis=1)
    if totals[0] + totals[1] == 0:
        return None
    if totals[0] == 0:
        counts, totals = counts[1:], totals[1:]
    counts, totals = counts[: TREND_PERIODS + 1].astype(np.float64), totals[: TREND_PERIODS + 1]
    decay = TREND_DECAY ** np.arange(len(totals) - 1)
    baseline = (decay @ counts[1:]) / max(float(decay @ totals[1:]), 1.0)
    expected = baseline * totals[0]
    damping = totals[0] / max(int(np.count_nonzero(counts[0])), 1)
    scores = (counts[0] - expected) / (expected + damping)
    scores[counts.sum(axis=0) == 0] = -1.0
    return scores

"""Array kernels of the rank and correlation statistics: within-row ranks and medians, and the sum of pairwise-complete residual correlations behind r-bar."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

# --------------------------------------------------------------------------------------------
# Fast within-row ranks (scipy.stats.rankdata with nan_policy="omit" is ~30 ms for 500 x 261)
# --------------------------------------------------------------------------------------------


_INT64_MAXPOS = np.int64(0x7FFFFFFFFFFFFFFF)
_INF_BITS = np.int64(0x7FF0000000000000)  # +inf as int64 bits (its order-preserving key)


def rank_rows(
    a: np.ndarray | tuple[np.ndarray, ...], medians: bool = False, fill: float = np.nan
) -> tuple[Any, ...]:
    """Average ranks (1-based) within each row, NaN kept as NaN (R's ``rank(na.last="keep")``).

    ``a`` is a 2-D array or a tuple of 2-D arrays with the same rows, ranked as if concatenated
    along the columns (without building the concatenation). Returns (ranks, number of non-NaN
    values per row) and, with ``medians=True``, each row's median of its non-NaN values (NaN for
    an all-NaN row), read off the same sort. Missing values get ``fill`` as their rank. Ties get
    the mean of their positions, as ``scipy.stats.rankdata(method="average")``, which is ~5x
    slower on a 500 x 261 panel.

    The row order comes from ONE vectorized int64 sort: each value becomes an order-preserving
    int64 key whose lowest bits are replaced by its column index. Rows where two keys agree above
    those bits (exact ties, or values within ~2^-43 relative of each other) are ranked again by
    :func:`_rank_rows_argsort`, so the result is exact in every case. Written in place where it
    can: fresh large temporaries are costly (page faults).
    """
    parts = tuple(np.asarray(p, dtype=float) for p in (a if isinstance(a, tuple) else (a,)))
    nrow = parts[0].shape[0]
    ncol = sum(p.shape[1] for p in parts)
    if nrow == 0 or ncol == 0:
        whole = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        ranks, count = _rank_rows_argsort(whole)
        ranks[np.isnan(ranks)] = fill
        return (ranks, count, _row_medians(whole)) if medians else (ranks, count)
    bits = max(1, int(ncol - 1).bit_length())
    low = np.int64((1 << bits) - 1)
    key = np.empty((nrow, ncol), dtype=np.int64)
    nan = np.empty((nrow, ncol), dtype=bool)
    redo = np.zeros(nrow, dtype=bool)
    at = 0
    for p in parts:
        w = p.shape[1]
        raw = p.view(np.int64)
        k = key[:, at : at + w]
        np.right_shift(raw, 63, out=k)
        k &= _INT64_MAXPOS
        k ^= raw  # monotone in the float value (negative floats' magnitude bits flipped)
        np.isnan(p, out=nan[:, at : at + w])
        redo |= np.isposinf(p).any(axis=1)  # +inf ties with the NaN fill: left to argsort
        at += w
    key[nan] = _INF_BITS  # NaN sorts last, as +inf
    key[key == -1] = 0  # -0.0 (key -1) equals +0.0 (key 0)
    key &= ~low
    key |= np.arange(ncol, dtype=np.int64)
    key.sort(axis=1)
    ranks = np.empty((nrow, ncol))
    scratch = ranks.view(np.int64)[:, : ncol - 1]  # overwritten by the ranks below
    np.bitwise_xor(key[:, 1:], key[:, :-1], out=scratch)
    near = scratch.view(np.uint64) <= low  # neighbours equal above the index bits
    near &= key[:, 1:] < _INF_BITS  # ... not counting the NaN fill (+inf)
    redo |= near.any(axis=1)
    redo = np.flatnonzero(redo)
    key &= low  # the order
    count = ncol - nan.sum(axis=1)
    med = None
    if medians:  # the middle one or two of each row's sorted non-NaN values
        rows = np.arange(nrow)
        lo = _values_at(parts, rows, key[rows, np.maximum(count - 1, 0) // 2])
        hi = _values_at(parts, rows, key[rows, np.minimum(count // 2, ncol - 1)])
        med = np.where(count > 0, (lo + hi) / 2.0, np.nan)
    key += (np.arange(nrow, dtype=np.int64) * ncol)[:, None]
    np.put(ranks, key, np.arange(1, ncol + 1, dtype=float))  # values repeat along each row
    if redo.size:
        sub = np.concatenate([p[redo] for p in parts], axis=1)
        ranks[redo] = _rank_rows_argsort(sub)[0]
        if med is not None:
            med[redo] = _row_medians(sub)
    ranks[nan] = fill
    return (ranks, count, med) if medians else (ranks, count)


def _values_at(parts: tuple[np.ndarray, ...], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values at (rows, cols) of the column-wise concatenation of ``parts``."""
    out = np.empty(rows.size)
    at = 0
    for p in parts:
        w = p.shape[1]
        sel = (cols >= at) & (cols < at + w)
        out[sel] = p[rows[sel], cols[sel] - at]
        at += w
    return out


def _row_medians(a: np.ndarray) -> np.ndarray:
    """Median of each row's non-NaN values by a plain sort (NaN for an all-NaN row)."""
    count = (~np.isnan(a)).sum(axis=1)
    srt = np.sort(a, axis=1)  # NaN last
    if srt.shape[1] == 0:
        return np.full(a.shape[0], np.nan)
    lo = np.take_along_axis(srt, (np.maximum(count - 1, 0) // 2)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(srt, np.minimum(count // 2, srt.shape[1] - 1)[:, None], axis=1)[:, 0]
    return np.where(count > 0, (lo + hi) / 2.0, np.nan)


def _rank_rows_argsort(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rank_rows` by np.argsort (the reference; used for rows with ties)."""
    a = np.asarray(a, dtype=float)
    nan = np.isnan(a)
    filled = np.where(nan, np.inf, a)
    order = np.argsort(filled, axis=1)
    srt = np.take_along_axis(filled, order, axis=1)
    nrow, ncol = a.shape
    pos = np.broadcast_to(np.arange(1, ncol + 1, dtype=float), (nrow, ncol))
    same = (srt[:, 1:] == srt[:, :-1]) & np.isfinite(srt[:, 1:])
    if same.any():
        new = np.ones((nrow, ncol), dtype=bool)
        new[:, 1:] = ~same
        gid = np.cumsum(new.ravel()) - 1
        cnt = np.bincount(gid)
        first = np.flatnonzero(new.ravel())
        avg = (pos.ravel()[first] + (cnt - 1) / 2.0)[gid].reshape(nrow, ncol)
    else:
        avg = pos
    ranks = np.empty_like(filled)
    np.put_along_axis(ranks, order, avg, axis=1)
    ranks[nan] = np.nan
    return ranks, (~nan).sum(axis=1)


# --------------------------------------------------------------------------------------------
# Pairwise-complete correlations (r-bar of Kolari & Pynnonen 2010)
# --------------------------------------------------------------------------------------------

#: Rows of one block of the r-bar pair computation (small blocks keep its arrays in cache).
_PAIR_BLOCK_ROWS = 32
#: Share of missing residuals below which the missing-day indicator is a scipy.sparse matrix.
_SPARSE_MISSING = 0.05


def _pair_corr_total(x: np.ndarray, ok: np.ndarray) -> tuple[float, int]:
    """Sum and number of the pairwise-complete correlations between the rows of ``x`` over the
    pairs i < j with at least 3 common days (``ok`` True) and variation on them.

    With the rows zero-filled (X) and M the missing-day indicator (sparse when few days are
    missing), every pair sum follows from the Gram matrix and sparse corrections. Each row is
    first centred on its own mean (a correlation is shift invariant; better accuracy), so its
    sum is 0 and, over the days common to i and j: n_ij = L - |M_i| - |M_j| + (MM')_ij, the sum
    of x_i is -(XM')_ij, of x_i^2 is q_i - (X^2 M')_ij, of x_i x_j is (XX')_ij. The upper
    triangle is evaluated in blocks of rows, in preallocated buffers: fresh large temporaries
    cost page faults, and large ones freed together make the allocator hand memory back to the
    OS. The data are held once, transposed (L, N). With M sparse, X^2 is formed only where a
    block needs it (its own columns; the later columns on the days a firm of the block misses),
    so the memory beyond X' is O(block x N); with M dense, X' sits next to X^2' in one (L, 2N)
    array that serves the dense products.
    """
    keep = ~np.isinf(x).any(axis=1)  # a row with +-inf has no finite correlation
    if not keep.all():
        x, ok = x[keep], ok[keep]
    n, L = x.shape
    cnt = ok.sum(axis=1)
    mi = (L - cnt).astype(float)
    n_miss = int(mi.sum())
    dense = n_miss > _SPARSE_MISSING * n * L
    miss_t = ~ok.T
    nb_max = min(n, _PAIR_BLOCK_ROWS)
    # One workspace for the data and every block buffer: allocated and released in one piece
    # (at this size the allocator maps it apart from the heap, which it leaves as it was).
    n_wide = 2 * n if dense else n
    w_data, w_block, w_cols = L * n_wide, nb_max * n, L * max(3, 2 * nb_max)
    work = np.empty(w_data + 6 * w_block + w_cols)
    wide = work[:w_data].reshape(L, n_wide)  # [X, X^2]' with M dense, else X'
    bufs = work[w_data : w_data + 6 * w_block].reshape(6, w_block)  # num, nij, di, dj, p_j'
    cols_buf = work[w_data + 6 * w_block :]  # a block's columns of X' and their squares
    xt = wide[:, :n]  # X' zero-filled, each firm centred on its own mean (so its row sum is 0)
    np.copyto(xt, x.T)
    xt -= np.sum(xt, axis=0, where=~miss_t) / np.maximum(cnt, 1)
    xt[miss_t] = 0.0
    del miss_t
    q = _column_square_sums(xt, cols_buf)
    M: Any = None
    if dense:
        np.multiply(xt, xt, out=wide[:, n:])
        M = (~ok).astype(float)
        mm = M @ M.T
    elif n_miss:
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(L - cnt, out=indptr[1:])
        days, ones = np.nonzero(~ok)[1], np.ones(n_miss)
        M = sparse.csr_array((ones, days, indptr), shape=(n, L))
        mm = (M @ M.T).tocsr()  # days missing for both firms: few nonzeros
        mm_rows = np.repeat(np.arange(n), np.diff(mm.indptr))
    need_n3 = L - 2.0 * (mi.max() if n else 0.0) < 3  # some pair may share fewer than 3 days
    good_buf = np.empty(nb_max * n, dtype=bool)
    lower = np.tri(nb_max, dtype=bool)  # j <= i within a diagonal block: not a pair i < j
    total, count = 0.0, 0
    for a in range(0, n, _PAIR_BLOCK_ROWS):
        b = min(n, a + _PAIR_BLOCK_ROWS)
        nb, nj = b - a, n - a
        num, nij, di, dj = (v[: nb * nj].reshape(nb, nj) for v in bufs[:4])
        good = good_buf[: nb * nj].reshape(nb, nj)
        np.matmul(xt[:, a:b].T, xt[:, a:], out=num)  # sum x_i x_j over all days
        np.copyto(di, q[a:b, None])
        np.copyto(dj, q[None, a:])
        if M is None:
            nij.fill(L)
            num *= L
            di *= L
            dj *= L
        else:
            # With the rows summing to 0, the sum of x_i over the days common with j is -P_ij,
            # P_ij = sum of x_i over j's missing days; likewise Q_ij for x_i^2.
            if dense:
                p_i = M[a:b] @ wide  # (nb, 2n): P_ji, Q_ji (sums over i's missing days)
                p_j = M[a:] @ wide[:, np.r_[a:b, n + a : n + b]]  # (nj, 2nb): P_ij, Q_ij
                p_ji, q_ji = p_i[:, a:n], p_i[:, n + a :]
            else:
                cols = cols_buf[: L * 2 * nb].reshape(L, 2 * nb)  # [X_i, X_i^2] of the block
                np.copyto(cols[:, :nb], xt[:, a:b])
                np.multiply(xt[:, a:b], xt[:, a:b], out=cols[:, nb:])
                e0, e1 = indptr[a], indptr[b]
                later = sparse.csr_array((ones[e0:], days[e0:], indptr[a:] - e0), shape=(nj, L))
                p_j = later @ cols  # (nj, 2nb): P_ij, Q_ij (sums over j's missing days)
                used = np.unique(days[e0:e1])  # the days some firm of the block misses
                block = sparse.csr_array(
                    (ones[e0:e1], np.searchsorted(used, days[e0:e1]), indptr[a : b + 1] - e0),
                    shape=(nb, used.size),
                )
                on_used = xt[used, a:]  # X' of the firms j >= a on those days
                p_ji = block @ on_used  # (nb, nj): P_ji (sums over i's missing days)
                on_used *= on_used
                q_ji = block @ on_used  # Q_ji
                del on_used
            p_jt = bufs[4:].reshape(-1)[: 2 * nb * nj].reshape(2 * nb, nj)
            np.copyto(p_jt, p_j.T)  # one transposing copy
            p_j = p_jt
            p_ij, q_ij = p_j[:nb], p_j[nb:]
            # n_ij = L - |M_i| - |M_j| + |M_i M_j| (days missing for both added back)
            np.subtract(L - mi[a:b, None], mi[None, a:], out=nij)
            if sparse.issparse(mm):
                e0, e1 = mm.indptr[a], mm.indptr[b]
                both = mm.indices[e0:e1]
                upper = both >= a
                nij[mm_rows[e0:e1][upper] - a, both[upper] - a] += mm.data[e0:e1][upper]
            else:
                nij += mm[a:b, a:]
            num *= nij
            dj -= q_ji
            dj *= nij
            tmp = q_ji  # read: scratch from here on
            np.multiply(p_ji, p_ji, out=tmp)
            dj -= tmp  # n sum x_j^2 - (sum x_j)^2
            np.multiply(p_ij, p_ji, out=tmp)
            num -= tmp  # n sum x_i x_j - sum x_i sum x_j
            di -= q_ij
            di *= nij
            np.multiply(p_ij, p_ij, out=tmp)
            di -= tmp  # n sum x_i^2 - (sum x_i)^2
            del p_j, p_ij, q_ij, p_ji, q_ji, tmp  # freed before the next block's products
        den = di
        den *= dj
        np.greater(den, 0.0, out=good)
        if need_n3:
            good &= nij >= 3
        good[:, :nb] &= ~lower[:nb, :nb]  # pairs j > i only
        np.copyto(den, 1.0, where=~good)
        np.sqrt(den, out=den)
        num /= den  # the correlations (garbage where not good)
        num *= good
        total += float(num.sum())
        count += int(np.count_nonzero(good))
    return total, count


def _column_square_sums(xt: np.ndarray, buf: np.ndarray) -> np.ndarray:
    """Sum over the rows of the squares of each column of ``xt``, squaring a few columns at a
    time into ``buf`` (room for at least 3 columns): the same values as squaring all of ``xt`` at
    once and summing down its columns. A single column would be summed pairwise rather than row
    after row, so no slice of one column is left over when ``xt`` has more than one."""
    L, n = xt.shape
    width = max(3, buf.size // max(L, 1))
    q = np.empty(n)
    c = 0
    while c < n:
        d = min(n, c + width)
        if n - d == 1:
            d -= 1  # leaves two columns for the last slice
        sq = buf[: L * (d - c)].reshape(L, d - c)
        np.multiply(xt[:, c:d], xt[:, c:d], out=sq)
        np.sum(sq, axis=0, out=q[c:d])
        c = d
    return q


_MAX_PATTERN_GROUPS = 12


def _row_groups(ok: np.ndarray) -> np.ndarray:
    """Group id per row such that rows with the same boolean pattern share an id (vectorized)."""
    n = ok.shape[0]
    if ok.all():
        return np.zeros(n, dtype=int)
    kb = np.packbits(ok, axis=1)
    pad = (-kb.shape[1]) % 8
    if pad:
        kb = np.concatenate([kb, np.zeros((n, pad), dtype=np.uint8)], axis=1)
    k64 = np.ascontiguousarray(kb).view(">u8")
    order = np.lexsort(k64.T[::-1])
    srt = k64[order]
    change = np.concatenate([[False], (srt[1:] != srt[:-1]).any(axis=1)])
    inv = np.empty(n, dtype=int)
    inv[order] = np.cumsum(change)
    return inv


def _unit_rows(v: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum of the rows demeaned and scaled to unit length (rows without variation dropped)."""
    z = v - v.mean(axis=1, keepdims=True)
    norm = np.sqrt((z * z).sum(axis=1))
    good = norm > 0
    return (z[good] / norm[good, None]).sum(axis=0), int(good.sum())


def pair_corr_sum(r: np.ndarray) -> tuple[float, int]:
    """Sum and number of the pairwise-complete correlations between the rows of ``r`` (NaN =
    missing) over the pairs with at least 3 common days and variation on them.

    Firms are grouped by their pattern of available days. For two groups A, B every pair shares
    the same common days S_AB; with z the rows demeaned and scaled to unit length over S_AB,
    corr_ab = z_a . z_b, so the sum over the group pair is (sum_a z_a) . (sum_b z_b) (minus the g
    diagonal terms, halved, within a group): O(G^2 N L1) without N x N matrices. With more than
    :data:`_MAX_PATTERN_GROUPS` patterns the sums come from :func:`_pair_corr_total`.
    """
    ok = ~np.isnan(r)
    inv = _row_groups(ok)
    n_groups = int(inv.max()) + 1
    if n_groups > _MAX_PATTERN_GROUPS:
        return _pair_corr_total(r, ok)
    members = [np.flatnonzero(inv == g) for g in range(n_groups)]
    pattern = [ok[mb[0]] for mb in members]
    total, count = 0.0, 0
    for a in range(n_groups):
        for b in range(a, n_groups):
            common = pattern[a] & pattern[b]
            if common.sum() < 3:
                continue
            za, ga = _unit_rows(r[np.ix_(members[a], np.flatnonzero(common))])
            if a == b:
                if ga >= 2:
                    total += (float(za @ za) - ga) / 2.0
                    count += ga * (ga - 1) // 2
                continue
            zb, gb = _unit_rows(r[np.ix_(members[b], np.flatnonzero(common))])
            if ga and gb:
                total += float(za @ zb)
                count += ga * gb
    return total, count

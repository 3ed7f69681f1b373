"""Exact k-nearest neighbours in torch (chunked matmul + top-k), for SNLS, LEND, SimiFeat and image grids.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 16)).astype("float32")
    >>> d, i = knn(x, 5)
    >>> bool((i[:, 0] == np.arange(500)).all()), d.shape
    (True, (500, 5))

Two precisions, both exact (the same neighbours as a brute-force search, ties aside):

* ``"fp32"``: squared distances ``|q|^2 + |x|^2 - 2 q.x`` from float32 matmuls on *centred* data (centring
  leaves distances unchanged and removes most of the cancellation error), then ``topk``.
* ``"bf16"`` (CPU only): one bf16 matmul with fp32 accumulation pre-selects ``k + max(32, k/2)``
  candidates per query, their scores are recomputed in float32, and every query row is *verified* with a
  rigorous bound on the bf16 error (from the actual rounding of the inputs, the accumulation and the bf16
  output): if some point outside the candidates could still beat the k-th neighbour, that row is recomputed
  with the fp32 path. The output is therefore the fp32 answer; only the time changes
  (``LAST_RUN["fallback_rows"]`` says how many rows fell back). When most rows of the first block fail (e.g.
  high-dimensional random noise, whose distances all concentrate), the rest is computed in fp32.
* ``"auto"`` (default): fp32. The bf16 path pays a full (non-symmetric) bf16 product plus a memory-bound
  gather of the candidates, against the fp32 path's symmetric product (half the work); it only wins where
  bf16 matmuls are several times faster than fp32 (AMX). On the AVX512-BF16 development VM (bf16 about 2.3x
  fp32, shared memory bandwidth) it measured slower (``benchmarks/bench_knn.py``), so it is opt-in.

Distances come from the expanded form in float32, so a distance that should be 0 (a duplicate point) can
come out as ``sqrt(~1e-7 |x|^2)`` (about 1e-3 for unit-scale 100-d features); the self-distance is exactly 0.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import check_choice, check_features

__all__ = ["knn", "knn_table", "neighbor_indices"]

METRICS = ("euclidean", "cosine")

#: what the last :func:`knn` call did (for benchmarks): ``precision`` and, for bf16, the number of query
#: ``rows`` and of ``fallback_rows`` whose certificate failed and that were recomputed in fp32
LAST_RUN: dict = {}



def knn(features, k: int, *, query=None, include_self: bool = True, metric: str = "euclidean",
        chunk_size: int | None = None, device="auto", precision: str = "auto", progress: bool = False,
        symmetric: bool | None = None):
    """Exact k nearest neighbours of each query row among ``features``.

    >>> x = np.array([[0.0], [1.0], [3.0], [7.0]], dtype="float32")
    >>> d, i = knn(x, 2, device="cpu")
    >>> i.tolist(), d[:, 1].tolist()                 # each point first (distance 0), then its nearest other
    ([[0, 1], [1, 0], [2, 1], [3, 2]], [1.0, 1.0, 2.0, 4.0])
    >>> knn(x, 1, include_self=False, device="cpu")[1].ravel().tolist()
    [1, 0, 1, 2]

    Parameters
    ----------
    features : array (N, D), float
        The reference points (numpy or torch).
    k : int
        Number of neighbours, ``1 <= k <= N`` (``N - 1`` when the queries are the features and
        ``include_self=False``).
    query : array (Nq, D), optional
        Query points. ``None`` means the features themselves (a self-join).
    include_self : bool
        Only for ``query=None``: whether point ``i`` is its own neighbour. When True it is always first
        (distance 0), even if it has exact duplicates.
    metric : {"euclidean", "cosine"}
        Euclidean distance, or cosine distance ``1 - cos(q, x)`` (rows are L2-normalised first).
    chunk_size : int, optional
        Query rows per matmul block; default keeps a block's score matrix near 256 MB.
    device : str
        ``"auto"`` (cuda > mps > cpu) or any torch device.
    precision : {"auto", "fp32", "bf16"}
        See the module docstring; all give the same neighbours, ties aside ("auto" = "fp32").
    progress : bool
        Show a tqdm bar over query chunks.
    symmetric : bool, optional
        Self-join in fp32 only: compute each block pair ``(i, j), j >= i`` of the distance matrix once and use
        it for both row blocks (half the matmul work, twice the top-k work). ``None`` (default): when
        ``D >= 256``, where the matmul dominates (measured ~10% faster at 10k x 1280, slower at 64-d).

    Returns
    -------
    distances : float32 (Nq, k), ascending per row
    indices : int64 (Nq, k)
    """
    import torch

    from ._torch import resolve_device

    x = check_features(features, name="features")
    n, dim = x.shape
    metric = check_choice(metric, ("euclidean", "cosine"), name="metric")
    precision = check_choice(precision, ("auto", "fp32", "bf16"), name="precision")
    self_join = query is None
    if self_join:
        q = x
    else:
        q = check_features(query, name="query")
        if q.shape[1] != dim:
            raise ValueError(f"query has {q.shape[1]} dimensions but features have {dim}; "
                             "embed both with the same encoder.")
    k_max = n - 1 if (self_join and not include_self) else n
    if int(k) != k or not (1 <= k <= k_max):
        raise ValueError(f"k must be an integer in [1, {k_max}] for {n} reference points"
                         f"{' excluding the point itself' if k_max == n - 1 else ''}, got {k!r}.")
    k = int(k)
    dev = resolve_device(device)
    if precision == "auto":
        precision = "fp32"
    if precision == "bf16" and dev.type != "cpu":
        raise ValueError("precision='bf16' is a CPU speed-up; on a GPU use precision='fp32' (or 'auto').")

    LAST_RUN.clear()
    LAST_RUN["precision"] = precision
    with torch.no_grad():
        X = torch.from_numpy(np.ascontiguousarray(x)).to(dev)
        Q = X if self_join else torch.from_numpy(np.ascontiguousarray(q)).to(dev)
        if metric == "cosine":
            X = torch.nn.functional.normalize(X, dim=1)
            Q = X if self_join else torch.nn.functional.normalize(Q, dim=1)
        else:
            mu = X.mean(0, keepdim=True)  # centring: distances unchanged, less cancellation
            X = X - mu
            Q = X if self_join else Q - mu
        nq = Q.shape[0]
        if chunk_size is None:
            chunk_size = max(64, min(4096, (64 * 2 ** 20) // max(n, 1)))
        chunk_size = int(chunk_size)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}.")
        xsq = (X * X).sum(1) if metric == "euclidean" else None
        if precision == "bf16" and self_join and symmetric is not False:
            block = int(max(256, min(chunk_size, 2048)))
            d, i, n_fallback = _self_join_bf16(X, xsq, k, metric, include_self, block, progress)
            LAST_RUN.update(rows=int(n), fallback_rows=int(n_fallback), symmetric=True)
            return d.cpu().numpy(), i.cpu().numpy()
        if precision == "bf16":
            block = int(max(64, min(chunk_size, 1024)))
            d, i, n_fallback = _knn_bf16(X, Q, xsq, k, metric, self_join, include_self, block, progress)
            LAST_RUN.update(rows=int(Q.shape[0]), fallback_rows=int(n_fallback))
            return d.cpu().numpy(), i.cpu().numpy()
        if symmetric is None:
            symmetric = dim >= 256
        if self_join and symmetric:
            d, i = _self_join_fp32(X, xsq, k, metric, include_self, chunk_size, progress)
            return d.cpu().numpy(), i.cpu().numpy()
        Xa = torch.cat([-2.0 * X, xsq[:, None]], 1) if metric == "euclidean" else None

        out_d = np.empty((nq, k), dtype=np.float32)
        out_i = np.empty((nq, k), dtype=np.int64)
        starts = range(0, nq, chunk_size)
        if progress:
            from tqdm.auto import tqdm
            starts = tqdm(starts, desc="knn", unit="chunk")
        for s in starts:
            e = min(s + chunk_size, nq)
            qc = Q[s:e]
            rows = torch.arange(s, e, device=dev) if self_join else None
            d, i = _chunk_fp32(qc, X, xsq, k, metric, rows, include_self, Xa)
            out_d[s:e] = d.cpu().numpy()
            out_i[s:e] = i.cpu().numpy()
    return out_d, out_i


class _RunningTopK:
    """The ``kc`` smallest scores (and their column indices) of each of ``n`` rows, over score blocks that
    arrive one at a time (:meth:`add`).

    A block is first compared with each row's current ``kc``-th smallest score (``thr``): only entries below it
    can enter. Where few do (every block after a row's first few), those entries are compacted into a short
    padded list and merged -- a cheap comparison plus a ``nonzero`` instead of a ``topk`` over the whole block,
    which on a CPU costs about as much as the block's matmul. The result is the exact top-``kc`` of everything
    added (ties at the ``kc``-th score aside), and every entry left out scored ``>=`` the final ``kc``-th one.
    """

    def __init__(self, n, kc, device):
        import torch
        self.kc = int(kc)
        self.v = torch.full((n, self.kc), math.inf, dtype=torch.float32, device=device)
        self.i = torch.zeros((n, self.kc), dtype=torch.long, device=device)
        self.thr = torch.full((n,), math.inf, dtype=torch.float32, device=device)

    def _merge(self, lo, hi, vals, idx):
        import torch
        v = torch.cat([self.v[lo:hi], vals], 1)
        i = torch.cat([self.i[lo:hi], idx], 1)
        v, o = torch.topk(v, self.kc, dim=1, largest=False, sorted=False)
        self.v[lo:hi], self.i[lo:hi] = v, torch.gather(i, 1, o)
        self.thr[lo:hi] = v.amax(1)

    def _dense(self, lo, hi, D, col0):
        import torch
        v, i = torch.topk(D, min(self.kc, D.shape[1]), dim=1, largest=False, sorted=False)
        self._merge(lo, hi, v.float(), i + col0)

    def add(self, lo, hi, D, col0):
        """Offer the scores ``D`` (rows ``lo:hi``, columns ``col0 + j``); any float dtype, any strides."""
        import torch
        thr = self.thr[lo:hi]
        rows, cols = D.shape
        if bool(torch.isinf(thr).any()):   # a row's first block: a plain top-k
            return self._dense(lo, hi, D, col0)
        # thr holds scores that came from D's dtype, so the cast is exact
        r, c = (D < thr[:, None].to(D.dtype)).nonzero(as_tuple=True)
        if r.numel() == 0:
            return
        if 4 * r.numel() > rows * cols:
            return self._dense(lo, hi, D, col0)
        cnt = torch.bincount(r, minlength=rows)
        mx = int(cnt.max())
        start = torch.cumsum(cnt, 0) - cnt
        pos = torch.arange(r.numel(), device=r.device) - start[r]
        pv = torch.full((hi - lo, mx), math.inf, dtype=torch.float32, device=D.device)
        pi = torch.zeros((hi - lo, mx), dtype=torch.long, device=D.device)
        pv[r, pos] = D[r, c].float()
        pi[r, pos] = c + col0
        self._merge(lo, hi, pv, pi)


def _self_join_fp32(X, xsq, k, metric, include_self, block, progress):
    """Self-join using the symmetry of the distance matrix: each block pair (i <= j) is computed once, as
    squared distances (or cosine distances) from one augmented matmul, and feeds a running top-k of the rows
    of block i and (transposed) of the rows of block j."""
    import torch
    n, dev = X.shape[0], X.device
    block = int(max(64, min(block, 4096)))
    one = torch.ones(n, 1, dtype=X.dtype, device=dev)
    if metric == "euclidean":   # [x, 1, |x|^2] . [-2x, |x|^2, 1] = |x_i - x_j|^2
        L = torch.cat([X, one, xsq[:, None]], 1)
        R = torch.cat([-2.0 * X, xsq[:, None], one], 1)
    else:                       # [x, 1] . [-x, 1] = 1 - cos
        L = torch.cat([X, one], 1)
        R = torch.cat([-X, one], 1)
    top = _RunningTopK(n, k, dev)
    starts = list(range(0, n, block))
    pairs = [(a, b) for ai, a in enumerate(starts) for b in starts[ai:]]
    if progress:
        from tqdm.auto import tqdm
        pairs = tqdm(pairs, desc="knn", unit="block")
    for a, b in pairs:
        ae, be = min(a + block, n), min(b + block, n)
        D = L[a:ae] @ R[b:be].T                                        # (ae - a, be - b)
        if a == b:
            r = torch.arange(ae - a, device=dev)
            D[r, r] = -math.inf if include_self else math.inf
        top.add(a, ae, D, b)
        if a != b:
            top.add(b, be, D.T, a)
    best_v, order = torch.sort(top.v, dim=1)
    best_i = torch.gather(top.i, 1, order)
    if include_self:
        best_v[:, 0] = 0.0
    if metric == "euclidean":
        return torch.sqrt(torch.clamp(best_v, min=0.0)), best_i
    return torch.clamp(best_v, min=0.0), best_i


def _scores(qc, X, xsq, metric):
    """Smaller is closer: |x|^2 - 2 q.x (euclidean, |q|^2 omitted) or -cos (cosine)."""
    if metric == "euclidean":
        return xsq[None, :] - 2.0 * (qc @ X.T)
    return -(qc @ X.T)


def _finish(qc, vals, idx, metric):
    """Turn sorted scores into distances."""
    import torch
    if metric == "euclidean":
        d2 = vals + (qc * qc).sum(1, keepdim=True)
        return torch.sqrt(torch.clamp(d2, min=0.0))
    return torch.clamp(1.0 + vals, min=0.0)


def _mask_self(sc, rows, include_self):
    """Force the query itself first (include_self) or out (not include_self) in a self-join."""
    import torch
    if rows is None:
        return
    r = torch.arange(rows.numel(), device=rows.device)
    sc[r, rows] = -math.inf if include_self else math.inf


def _chunk_fp32(qc, X, xsq, k, metric, rows, include_self, Xa=None):
    import torch
    if Xa is not None:  # one fused matmul: [q, 1] . [-2x, |x|^2] = |x|^2 - 2 q.x
        sc = torch.cat([qc, torch.ones(qc.shape[0], 1, dtype=qc.dtype, device=qc.device)], 1) @ Xa.T
    else:
        sc = _scores(qc, X, xsq, metric)
    _mask_self(sc, rows, include_self)
    vals, idx = torch.topk(sc, k, dim=1, largest=False, sorted=True)
    if rows is not None and include_self:
        vals[:, 0] = -(qc * qc).sum(1) if metric == "euclidean" else -1.0
    return _finish(qc, vals, idx, metric), idx


#: candidates per row in the bf16 pre-screen: k + max(_MARGIN_MIN, k * _MARGIN_FRAC)
_MARGIN_MIN, _MARGIN_FRAC = 32, 0.5

#: the same for the symmetric self-join's pre-screen (whose re-rank gathers every candidate row)
_MARGIN_MIN_SELF = 16

#: unit roundoff of bf16 (8 significant bits) and of fp32 accumulation
_U16, _U32 = 2.0 ** -8, 2.0 ** -24


def _knn_bf16(X, Q, xsq, k, metric, self_join, include_self, block, progress):
    """bf16 pre-screen + exact fp32 re-rank + a per-row exactness certificate; rows that fail it get fp32.

    1. One bf16 matmul per query block with fp32 accumulation: ``[q, 1, 1] . [-2x, hi, lo]`` =
       ``|x|^2 - 2 q.x`` (``hi + lo = |x|^2``, so the norm keeps ~16 bits; ``-q.x`` for cosine), then
       ``kc = k + max(32, k/2)`` candidates per row by top-k on the bf16 scores.
    2. Exact fp32 scores of the candidates (a gather into a reused buffer, a matrix-vector product per query).
    3. Certificate: every non-candidate ``j`` had a bf16 score ``>= a`` (the largest candidate score), and the
       bf16 score is within ``err`` of the fp32 one, where ``err`` is a rigorous bound from the *actual* input
       rounding (``|q~ - q| max_j |x~_j| + |q| max_j |x~_j - x_j|``, doubled for ``-2x``), the fp32
       accumulation (``(D + 2) u32`` times the sum of magnitudes, counted twice: the bf16 product's and the
       fp32 one's) and the bf16 output rounding (relative ``u16 / 2``). A row is certified when the smallest
       score a non-candidate can have is no smaller than the row's k-th exact score: then no non-candidate can
       enter the top ``k`` (ties aside) and the row is the fp32 answer. Other rows are recomputed in fp32; if
       most rows of the first block fail (concentrated distances), the rest is computed in fp32 directly.

    Returns ``(distances, indices, n_fallback)`` as torch tensors.
    """
    import torch
    n, dim = X.shape
    dev = X.device
    nq = Q.shape[0]
    kc = min(n, k + max(_MARGIN_MIN, int(k * _MARGIN_FRAC)))
    Xp, xsqp, Qp = X, xsq, Q
    if metric == "euclidean":
        hi = xsqp.to(torch.bfloat16).float()
        Xt = (-2.0 * Xp).to(torch.bfloat16)
        Xab = torch.cat([Xt, hi[:, None].to(torch.bfloat16), (xsqp - hi)[:, None].to(torch.bfloat16)], 1)
        dx = ((Xt.float() / -2.0) - Xp).norm(dim=1).max()      # max_j |x~_j - x_j|
        xt_max = (Xt.float() / 2.0).norm(dim=1).max()           # max_j |x~_j|
        mag = float(xsqp.max())                                 # |x|^2 part of the sum of magnitudes
        fac = 2.0
    else:
        Xt = Xp.to(torch.bfloat16)
        Xab = Xt
        dx = (Xt.float() - Xp).norm(dim=1).max()
        xt_max = Xt.float().norm(dim=1).max()
        mag = 0.0
        fac = 1.0
    gam = (dim + 2) * _U32
    sub = 64
    buf = torch.empty((sub * kc, dim), dtype=X.dtype, device=dev)   # reused gather buffer: no page faults
    out_d = torch.empty((nq, k), dtype=torch.float32, device=dev)
    out_i = torch.empty((nq, k), dtype=torch.long, device=dev)
    n_fallback = 0
    use_bf16 = True
    starts = range(0, nq, block)
    if progress:
        from tqdm.auto import tqdm
        starts = tqdm(starts, desc="knn (bf16)", unit="chunk")
    for s in starts:
        e = min(s + block, nq)
        qc = Qp[s:e]
        rows = torch.arange(s, e, device=dev) if self_join else None
        if not use_bf16:
            d, i = _chunk_fp32(qc, Xp, xsqp, k, metric, rows, include_self)
            out_d[s:e], out_i[s:e] = d, i
            continue
        qt = qc.to(torch.bfloat16)
        if metric == "euclidean":
            one = torch.ones(qc.shape[0], 2, dtype=torch.bfloat16, device=dev)
            sc = torch.cat([qt, one], 1) @ Xab.T
        else:
            sc = -(qt @ Xab.T)
        _mask_self(sc, rows, include_self)
        approx, cand = torch.topk(sc, kc, dim=1, largest=False, sorted=False)
        a = approx.float().amax(1)
        # exact fp32 scores of the candidates
        dots = torch.empty(cand.shape, dtype=torch.float32, device=dev)
        for r in range(0, qc.shape[0], sub):
            c = cand[r:r + sub]
            xc = torch.index_select(Xp, 0, c.reshape(-1), out=buf[:c.numel()])
            for j in range(c.shape[0]):   # one matrix-vector product per query: ~1.4x faster than bmm here
                torch.mv(xc[j * kc:(j + 1) * kc], qc[r + j], out=dots[r + j])
        exact = (xsqp[cand] - 2.0 * dots) if metric == "euclidean" else -dots
        if rows is not None:
            exact[cand == rows[:, None]] = -math.inf if include_self else math.inf
        vals, order = torch.topk(exact, k, dim=1, largest=False, sorted=True)
        idx = torch.gather(cand, 1, order)
        if kc < n:
            qn = qc.norm(dim=1)
            dq = (qt.float() - qc).norm(dim=1)
            qt_n = qt.float().norm(dim=1)
            err = fac * (dq * xt_max + qn * dx) + 2.0 * gam * (fac * qt_n * xt_max + mag)
            err = 1.01 * err + 1e-30
            c_out = _U16 / 2 / (1 - _U16 / 2)   # bf16 output rounding: s >= a - c |a|
            bound = a - c_out * a.abs() - err
            ok = torch.isfinite(a) & (bound >= vals[:, -1])
        else:
            ok = torch.ones(qc.shape[0], dtype=torch.bool, device=dev)
        if rows is not None and include_self:
            vals[:, 0] = -(qc * qc).sum(1) if metric == "euclidean" else -1.0
        d = _finish(qc, vals, idx, metric)
        bad = (~ok).nonzero().flatten()
        if bad.numel():
            n_fallback += bad.numel()
            d2, i2 = _chunk_fp32(qc[bad], Xp, xsqp, k, metric, rows[bad] if rows is not None else None,
                                 include_self)
            d[bad], idx[bad] = d2, i2
            if s == 0 and bad.numel() > 0.5 * qc.shape[0]:
                use_bf16 = False   # distances too concentrated for the pre-screen to pay off
        out_d[s:e], out_i[s:e] = d, idx
    return out_d, out_i, n_fallback


def _self_join_bf16(X, xsq, k, metric, include_self, block, progress, margin=None):
    """Self-join: a *symmetric* bf16 pre-screen (each block pair ``(i <= j)`` of the score matrix is one bf16
    matmul with fp32 accumulation, feeding a running top-``kc`` of the rows of both blocks), then the exact
    fp32 re-rank and per-row certificate of :func:`_knn_bf16` (rows that fail it are recomputed in fp32).

    The screen's scores are symmetric: ``1 - cos`` for cosine (``[x] . [-x]``), the full squared distance
    ``|x_i|^2 + |x_j|^2 - 2 x_i.x_j`` for euclidean (``[x, 1, 1, hi, lo] . [-2x, hi, lo, 1, 1]``, ``hi + lo =
    |x|^2``). The running top-``kc`` over block pairs is the exact top-``kc`` of all bf16 scores, so every
    non-candidate scored no lower than the largest candidate score ``a``, and the certificate of
    :func:`_knn_bf16` applies unchanged (with the |x_i|^2 term added to the accumulation bound and the hi/lo
    split error). The point itself is excluded from the screen and put first afterwards when ``include_self``.
    Half the matmul work of :func:`_knn_bf16`. A failed row is recomputed against all points in fp32 (twice
    its share of a symmetric fp32 join), so when more than a quarter of the first block's rows fail, the whole
    join is computed with :func:`_self_join_fp32` instead.

    Returns ``(distances, indices, n_fallback)`` as torch tensors.
    """
    import torch
    n, dim = X.shape
    dev = X.device
    k_oth = k - 1 if include_self else k          # neighbours other than the point itself
    if margin is None:
        # 16 extra candidates suffice for k = 10 on CIFAR-10 Lite0 features (no row failed on 10k, original and
        # dropout views; 8 left ~1% to the fallback); each candidate costs a gathered row in the re-rank
        margin = max(_MARGIN_MIN_SELF, int(k * _MARGIN_FRAC))
    kc = k_oth + int(margin)
    block = int(max(64, min(block, 4096)))
    if k_oth < 1 or n < 4 * kc or n <= 2 * block:
        d, i = _self_join_fp32(X, xsq, k, metric, include_self, block, progress)
        return d, i, 0
    bf = torch.bfloat16
    xt = X.to(bf)
    dx = (xt.float() - X).norm(dim=1)                          # per-row input rounding |x~ - x|
    xt_n = xt.float().norm(dim=1)
    xn = X.norm(dim=1)
    if metric == "euclidean":
        hi = xsq.to(bf)
        lo = (xsq - hi.float()).to(bf)
        one = torch.ones(n, 1, dtype=bf, device=dev)
        L = torch.cat([xt, one, one, hi[:, None], lo[:, None]], 1)
        R = torch.cat([-2.0 * xt, hi[:, None], lo[:, None], one, one], 1)   # -2 x~ is exact in bf16
        fac, mag = 2.0, 2.0 * float(xsq.max()) * (1.0 + 2.0 ** -15)       # both norms, and their hi/lo error
        split = 4.0 * 2.0 ** -16 * float(xsq.max())
    else:
        L, R = xt, -xt
        fac, mag, split = 1.0, 0.0, 0.0
    gam = (dim + 4) * _U32
    top = _RunningTopK(n, kc, dev)
    best_v, best_i = top.v, top.i

    out_d = torch.empty((n, k), dtype=torch.float32, device=dev)
    out_i = torch.empty((n, k), dtype=torch.long, device=dev)
    sub = 64
    buf = torch.empty((sub * kc, dim), dtype=X.dtype, device=dev)   # reused gather buffer

    def finish_rows(s, e):
        """Exact re-rank + certificate of rows s:e, whose candidates are final; returns the failed rows."""
        cand = best_i[s:e]
        a = best_v[s:e].amax(1)
        qc = X[s:e]
        dots = torch.empty(cand.shape, dtype=torch.float32, device=dev)
        for r in range(0, e - s, sub):
            c = cand[r:r + sub]
            xc = torch.index_select(X, 0, c.reshape(-1), out=buf[:c.numel()])
            for j in range(c.shape[0]):
                torch.mv(xc[j * kc:(j + 1) * kc], qc[r + j], out=dots[r + j])
        if metric == "euclidean":
            exact = xsq[s:e, None] + xsq[cand] - 2.0 * dots
        else:
            exact = 1.0 - dots
        vals, order = torch.topk(exact, k_oth, dim=1, largest=False, sorted=True)
        idx = torch.gather(cand, 1, order)
        sl = slice(s, e)
        # bf16 score error of any pair (i, j): input rounding, fp32 accumulation, hi/lo split; output rounding
        err = fac * (dx[sl] * xt_n.max() + xn[sl] * dx.max()) + 2.0 * gam * (fac * xt_n[sl] * xt_n.max() + mag)
        err = 1.01 * (err + split) + 1e-30
        c_out = _U16 / 2 / (1 - _U16 / 2)
        bound = a - c_out * a.abs() - err   # no non-candidate scores lower than this in fp32
        if metric == "cosine":
            bound = 1.0 + bound            # the screen scored -x~.x~; the exact scores are 1 - cos
        ok = torch.isfinite(a) & (bound >= vals[:, -1])
        if metric == "euclidean":
            d = torch.sqrt(torch.clamp(vals, min=0.0))
        else:
            d = torch.clamp(vals, min=0.0)
        if include_self:
            out_d[sl, 0], out_i[sl, 0] = 0.0, torch.arange(s, e, device=dev)
            out_d[sl, 1:], out_i[sl, 1:] = d, idx
        else:
            out_d[sl], out_i[sl] = d, idx
        return (~ok).nonzero().flatten() + s

    starts = list(range(0, n, block))
    bad_rows = []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(starts) * (len(starts) + 1) // 2, desc="knn (bf16, symmetric)", unit="block")
    for ai, a0 in enumerate(starts):
        ae = min(a0 + block, n)
        La = L[a0:ae]
        for b0 in starts[ai:]:
            be = min(b0 + block, n)
            D = La @ R[b0:be].T                                            # bf16, fp32 accumulation
            if a0 == b0:
                r = torch.arange(ae - a0, device=dev)
                D[r, r] = math.inf
            top.add(a0, ae, D, b0)
            if a0 != b0:
                top.add(b0, be, D.T, a0)
            if bar is not None:
                bar.update(1)
        bad = finish_rows(a0, ae)          # block a's candidates are final: no later pair touches its rows
        bad_rows.append(bad)
        if ai == 0 and bad.numel() > 0.25 * (ae - a0):
            # distances too concentrated for the pre-screen to pay off: the symmetric fp32 self-join
            if bar is not None:
                bar.close()
            d, i = _self_join_fp32(X, xsq, k, metric, include_self, block, False)
            return d, i, n
    if bar is not None:
        bar.close()
    bad = torch.cat(bad_rows)
    if bad.numel():
        for s in range(0, bad.numel(), block):
            rows = bad[s:s + block]
            d2, i2 = _chunk_fp32(X[rows], X, xsq, k, metric, rows, include_self)
            out_d[rows], out_i[rows] = d2, i2
    return out_d, out_i, int(bad.numel())


def knn_table(features, k: int, *, cache_dir=None, include_self: bool = True, metric: str = "euclidean",
              device="auto", progress: bool = False) -> np.ndarray:
    """The (N, k) int64 neighbour indices of a self-join (:func:`knn` with ``query=None``), cached on disk.

    With ``cache_dir`` (a folder, or ``True`` for ``<data root>/cache/knn``: :func:`labnoise.cache.cache_dir`)
    the table is stored atomically as ``knn-<hash>.npy``, the hash (:func:`labnoise.cache.content_hash`)
    covering the features (shape, dtype, bytes), ``k``, ``include_self`` and ``metric``; a later call with the
    same inputs loads it. An unreadable or wrongly shaped file is recomputed.
    """
    from pathlib import Path

    from . import cache

    x = check_features(features, name="features")
    metric = check_choice(metric, METRICS, name="metric")
    path = None
    if cache_dir is not None and cache_dir is not False:
        folder = cache.cache_dir("knn") if cache_dir is True else Path(cache_dir)
        key = cache.content_hash({"features": np.ascontiguousarray(x), "k": int(k),
                                  "include_self": bool(include_self), "metric": metric, "format": 2}, length=16)
        path = folder / f"knn-{key}.npy"
        if path.exists():
            try:
                idx = np.load(path)
                if idx.shape == (x.shape[0], int(k)) and idx.dtype == np.int64:
                    return idx
            except (OSError, ValueError, EOFError):
                pass
    _, idx = knn(x, k, include_self=include_self, metric=metric, device=device, progress=progress)
    if path is not None:
        cache.save_npy(path, idx)
    return idx


def neighbor_indices(features, k: int, *, include_self: bool = True, metric: str = "euclidean",
                     device="auto", chunk_size: int | None = None, progress: bool = False) -> np.ndarray:
    """Indices (N, k) int64 of each example's ``k`` nearest neighbours among the same ``features``, nearest first.

    Parameters
    ----------
    features : (N, D) array.
    k : neighbourhood size (1 <= k <= N, or N - 1 without self).
    include_self : True -> column 0 is the example itself and the other ``k - 1`` columns its nearest *other*
        examples (the public SNLS code's convention: the query point is found in its own index). False -> ``k``
        nearest other examples. Self is always first, so exact duplicates cannot push it out.
    metric : ``"euclidean"`` (un-normalised features, as in the public code) or ``"cosine"``.
    device, chunk_size, progress : passed to :func:`labnoise.neighbors.knn` (exact search).
    """
    X = check_features(features)
    n = X.shape[0]
    check_choice(metric, METRICS, name="metric")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    k = int(k)
    k_max = n if include_self else n - 1
    if k > k_max:
        raise ValueError(f"k={k} is too large for {n} examples (at most {k_max} with include_self={include_self}); "
                         "lower k.")
    _, idx = knn(X, k, include_self=include_self, metric=metric, device=device, chunk_size=chunk_size,
                 progress=progress)
    return np.ascontiguousarray(idx, dtype=np.int64)

"""LEND: label-noise dilution on the network's own embeddings (Zhang et al., Machine Learning 2022).

There is no public code; this module implements the paper's equations. Per mini-batch of ``B`` examples, on
the *current* network's penultimate embeddings ``v_i`` (the MLP's last hidden layer in the feature lane, a
ResNet's pooled features in the pixel lane; detached, no gradient flows through the dilution):

1. ``A_ij = [v_i . v_j]_+ ** gamma`` for ``j`` in the ``k`` nearest neighbours of ``i`` within the batch,
   ``i != j``, else 0 (Eq. 1) -- :func:`affinity`;
2. ``W' = A^T A`` (as written in the paper, *not* ``A + A^T``), ``D = diag(W' 1)``,
   ``W = D^-1/2 W' D^-1/2`` -- :func:`dilution_matrix`. ``W'`` is symmetric by construction and has a
   non-zero diagonal (``W'_ii = sum_l A_li^2``), so an example keeps a share of its own label;
3. ``Z(t) = alpha W Z(t-1) + (1 - alpha) Z(t-1)``, ``Z(0)`` = one-hot given labels -- :func:`dilute`.
   **The paper is not self-consistent here**, and both readings are implemented (``rule``):

   * ``rule="knn"`` -- Eq. 2 as written: the sum runs only over ``j`` in ``kNN_k(i)``, i.e. ``W`` is
     restricted to each row's ``k`` nearest neighbours (``W_ij 1[j in kNN_k(i)]``; self excluded, as in Eq. 1);
   * ``rule="two_hop"`` -- Eq. 3's matrix form with the full ``W = D^-1/2 A^T A D^-1/2``, whose ``(i, j)``
     entry is non-zero whenever ``i`` and ``j`` share a neighbour: a label reaches two hops per step.

   The paper iterates "until converge" (no tolerance given): ``steps=None`` iterates until the row-normalised
   ``Z`` changes by less than ``tol`` (max-abs) between steps, capped at ``max_steps`` -- the number of steps
   taken is reported per epoch (``dilution_steps``). ``steps=T`` runs exactly ``T`` steps instead. The residual
   is the previous iterate, not ``Z(0)``: the iteration is a lazy power iteration, and run to convergence with
   the two-hop ``W`` it collapses every connected component of the batch graph onto ``W``'s leading
   eigenvector (one class per component);
4. each row of ``Z`` is normalised to sum 1 (``W`` does not preserve row sums, and a batch's scale should
   not set how much it weighs in the momentum), then an epoch momentum per example,
   ``Z^tau = (1 - beta) Z + beta Z^(tau-1)`` (Eq. 5), kept in an ``N x C`` store. The first time an example is
   seen its store row is set to ``Z`` (no zero/one-hot prior to decay); with ``store_warmup=False`` the store
   starts only after the warm-up, so the untrained network's dilutions do not enter the average;
5. selection only (Eqs. 6-7): ``e_i = 1[y_i = argmax Z^tau_i]``, loss ``sum_i e_i CE(f(x_i), y_i) / B`` on the
   *given* labels (dividing by the batch size, not the number selected, keeps the learning-rate scale of plain
   cross-entropy). Nothing is relabelled.

Open choices (the paper leaves them unspecified), all parameters:

* ``gamma = 3`` and ``normalize = True``: the embeddings are L2-normalised before Eq. 1, as in Iscen et al.'s
  label propagation, which LEND's Eq. 1 follows; ``[.]_+^3`` then sharpens cosine similarities in [0, 1].
* kNN metric: inner product of the (normalised) embeddings, i.e. cosine similarity -- the same quantity that
  enters ``A``, so neighbours are the examples with the largest affinities.
* ``rule = "knn"``, ``steps = 1``: the setting chapter 5's measurements favoured (diluted-label and test
  accuracy on the digits smoke grid and on a 10k-example CIFAR-10 Lite0 slice, both rules, T = 1, 5 and
  until converged). Run until converged (``steps=None``; ``tol = 1e-4``, ``max_steps = 500`` when used) both
  rules collapse the batch graph's components onto few labels and the diluted labels fall far below the given
  ones; with the two-hop ``W`` one step barely moves a label (``W_ii`` keeps most of the example's own), so
  it needs a few steps. Chapter 5 re-measures every combination on each run.
* ``warmup_epochs = 1`` of plain cross-entropy (a freshly initialised network's embeddings carry no class
  structure).
* ``Z(0)`` is the one-hot given label; examples that are nobody's neighbour in the batch have a zero row in
  ``W`` and keep their given label, so they are selected.

:class:`LabelMonitor` is a :class:`labnoise.train.Hook` that records, per epoch, the accuracy of the diluted
labels and of the model's predicted labels against the clean labels (paper Fig. 4) and the precision/recall of
any method's selection (``state.record["selected"]``) against the clean labels, and the in-batch *neighbour
purity* of the embedding LEND dilutes on (the share of each example's ``k`` batch neighbours whose true class is
its own: the quantity that decides whether dilution can help). It is the only place that reads the clean
labels; the method never does.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .standard import Method, cross_entropy

__all__ = ["LEND", "RULES", "affinity", "knn_indices", "dilution_matrix", "dilute", "dilute_labels",
           "LabelMonitor"]

#: the two dilution rules of the paper: Eq. 2 (sum over the k nearest neighbours) and Eq. 3 (two-hop W)
RULES = ("knn", "two_hop")


def knn_indices(embeddings, *, k: int = 8, normalize: bool = True):
    """(B, min(k, B-1)) batch positions of each row's ``k`` nearest neighbours (largest inner products of the
    (normalised) embeddings, self excluded) -- the neighbours of Eq. 1."""
    v = torch.as_tensor(embeddings).float()
    if v.ndim != 2:
        raise ValueError(f"embeddings must be (B, d), got shape {tuple(v.shape)}.")
    if int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k!r}.")
    if normalize:
        v = F.normalize(v, dim=1)
    kk = min(int(k), v.shape[0] - 1)
    if kk < 1:
        return torch.zeros((v.shape[0], 0), dtype=torch.long, device=v.device)
    S = v @ v.T
    S.fill_diagonal_(float("-inf"))
    return S.topk(kk, dim=1).indices


def affinity(embeddings, *, k: int = 8, gamma: float = 3.0, normalize: bool = True):
    """The sparse kNN affinity ``A`` (B, B) of Eq. 1: ``[v_i . v_j]_+^gamma`` on each row's ``k`` nearest
    neighbours (largest inner products, self excluded), zero elsewhere. ``k`` is capped at ``B - 1``."""
    v = torch.as_tensor(embeddings).float()
    idx = knn_indices(v, k=k, normalize=normalize)
    if normalize:
        v = F.normalize(v, dim=1)
    b = v.shape[0]
    A = torch.zeros((b, b), dtype=v.dtype, device=v.device)
    if idx.shape[1] < 1:
        return A
    vals = torch.gather(v @ v.T, 1, idx)
    A.scatter_(1, idx, vals.clamp(min=0).pow(float(gamma)))
    return A


def dilution_matrix(A, *, rule: str = "two_hop"):
    """``W = D^-1/2 (A^T A) D^-1/2`` with ``D = diag(A^T A 1)``; rows of zero degree stay zero.

    ``rule="two_hop"`` (Eq. 3's matrix form) returns that ``W``; ``rule="knn"`` (Eq. 2's sum over ``kNN_k(i)``)
    keeps only the entries ``W_ij`` with ``j`` among ``i``'s neighbours (the non-zero pattern of ``A``)."""
    rule = _check_rule(rule)
    Wp = A.T @ A
    d = Wp.sum(1)
    dinv = torch.where(d > 0, d.clamp(min=1e-30).rsqrt(), torch.zeros_like(d))
    W = dinv[:, None] * Wp * dinv[None, :]
    return W * (A > 0).to(W.dtype) if rule == "knn" else W


def _rownorm(Z):
    return Z / Z.sum(1, keepdim=True).clamp(min=1e-30)


def dilute(W, Z0, *, alpha: float = 0.99, steps: int | None = 5, tol: float = 1e-4, max_steps: int = 500,
           return_path: bool = False, return_steps: bool = False):
    """Iterate ``Z(t) = alpha W Z(t-1) + (1 - alpha) Z(t-1)`` from ``Z0`` (Eqs. 2-3).

    ``steps=T`` runs exactly ``T`` steps. ``steps=None`` runs "until converge" (the paper): until the
    row-normalised iterate moves by less than ``tol`` (max-abs over entries), at most ``max_steps`` steps.
    ``return_path=True`` returns the list ``[Z(0), ..., Z(t)]``; ``return_steps=True`` returns ``(Z, t)``."""
    if not (0.0 <= float(alpha) <= 1.0):
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}.")
    if steps is not None and int(steps) < 0:
        raise ValueError(f"steps must be >= 0 or None (until converged), got {steps!r}.")
    if int(max_steps) < 1 or not float(tol) > 0:
        raise ValueError(f"max_steps must be >= 1 and tol > 0, got {max_steps!r}, {tol!r}.")
    Z = Z0
    path = [Z]
    cap = int(steps) if steps is not None else int(max_steps)
    t = 0
    prev = _rownorm(Z) if steps is None else None
    while t < cap:
        Z = alpha * (W @ Z) + (1.0 - alpha) * Z
        t += 1
        if return_path:
            path.append(Z)
        if steps is None:
            cur = _rownorm(Z)
            if float((cur - prev).abs().max()) < float(tol):
                break
            prev = cur
    out = path if return_path else Z
    return (out, t) if return_steps else out


def dilute_labels(embeddings, labels, num_classes: int | None = None, *, k: int = 8, gamma: float = 3.0,
                  alpha: float = 0.99, steps: int | None = 1, rule: str = "knn", tol: float = 1e-4,
                  max_steps: int = 500, normalize: bool = True, return_path: bool = False):
    """One batch's dilution: row-normalised ``Z`` (numpy/torch in, torch out) from embeddings and given
    labels, with either rule and ``steps`` (``None``: until converged). ``return_path=True`` gives every step
    (each row-normalised)."""
    v = torch.as_tensor(embeddings).float()
    y = torch.as_tensor(labels).long().to(v.device)
    C = int(num_classes) if num_classes is not None else int(y.max()) + 1
    W = dilution_matrix(affinity(v, k=k, gamma=gamma, normalize=normalize), rule=rule)
    out = dilute(W, F.one_hot(y, C).float(), alpha=alpha, steps=steps, tol=tol, max_steps=max_steps,
                 return_path=return_path)
    return [_rownorm(Z) for Z in out] if return_path else _rownorm(out)


def _check_rule(rule):
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES} ('knn': Eq. 2, the sum over each example's k nearest "
                         f"neighbours; 'two_hop': Eq. 3's W = D^-1/2 A^T A D^-1/2), got {rule!r}.")
    return rule


class LEND(Method):
    """Label-noise dilution: train with cross-entropy on the examples whose given label is the argmax of
    their momentum-averaged diluted label (see the module docstring for every equation and choice).

    Parameters
    ----------
    k : int
        Neighbours per example within the batch (paper: 8).
    gamma : float
        Exponent of the affinity (open; 3 as in Iscen et al.).
    alpha : float
        Dilution strength (paper: 0.99).
    beta : float
        Epoch momentum of the diluted labels (paper: 0.9).
    rule : {"knn", "two_hop"}
        Eq. 2's sum over the k nearest neighbours (default: the measurements favour it) or Eq. 3's matrix form
        (two hops per step).
    steps : int or None
        Dilution iterations ``T`` per batch (default 1: the measurements favour it); ``None`` (the paper's "until
        converge"): until the row-normalised ``Z`` moves by less than ``tol``, at most ``max_steps``.
    tol, max_steps : float, int
        The convergence tolerance and cap of ``steps=None`` (open; 1e-4, 500).
    warmup_epochs : int
        Epochs of plain cross-entropy on every example before selection starts (open; 1).
    store_warmup : bool
        Whether the momentum store averages the warm-up epochs' dilutions too (True) or starts after them.
    normalize : bool
        L2-normalise embeddings before the affinity (open; True).

    Attributes (of the trained copy, ``FitResult.method``; :func:`labnoise.train.fit` never changes the
    instance it is given)
    ----------
    store_ : (N, C) momentum-averaged diluted labels (Eq. 5), rows of examples not seen yet are zero.
    seen_ : (N,) bool, the examples seen at least once.
    selected : after every batch, the training-set positions kept (as for the other selection methods).

    Per batch it also leaves ``state.record["knn"]`` (the (B, k) batch positions of each example's neighbours),
    from which :class:`LabelMonitor` measures the neighbour purity; per epoch it reports ``kept_fraction`` and
    ``dilution_steps`` (mean steps per batch).

    Before training, :meth:`diluted_labels` raises ``sklearn.exceptions.NotFittedError``.
    """

    name = "lend"
    num_models = 1
    soft_targets = False
    needs_embeddings = True

    def __init__(self, k: int = 8, gamma: float = 3.0, alpha: float = 0.99, beta: float = 0.9,
                 rule: str = "knn", steps: int | None = 1, tol: float = 1e-4, max_steps: int = 500,
                 warmup_epochs: int = 1, store_warmup: bool = True, normalize: bool = True):
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k!r}.")
        for nm, v in (("alpha", alpha), ("beta", beta)):
            if not (0.0 <= float(v) <= 1.0):
                raise ValueError(f"{nm} must be in [0, 1], got {v!r}.")
        if (steps is not None and int(steps) < 0) or int(warmup_epochs) < 0:
            raise ValueError("steps (or None: until converged) and warmup_epochs must be >= 0.")
        if int(max_steps) < 1 or not float(tol) > 0:
            raise ValueError(f"max_steps must be >= 1 and tol > 0, got {max_steps!r}, {tol!r}.")
        self.k, self.gamma, self.alpha, self.beta = int(k), float(gamma), float(alpha), float(beta)
        self.rule = _check_rule(rule)
        self.steps = None if steps is None else int(steps)
        self.tol, self.max_steps = float(tol), int(max_steps)
        self.warmup_epochs, self.store_warmup, self.normalize = int(warmup_epochs), bool(store_warmup), bool(normalize)
        self.selected = None
        self._kept = 0
        self._count = 0
        self._steps = self._batches = 0

    def setup(self, state):
        self.store_ = torch.zeros((state.n_train, state.num_classes), device=state.device)
        self.seen_ = torch.zeros(state.n_train, dtype=torch.bool, device=state.device)

    def on_epoch_start(self, state):
        self._kept = self._count = 0
        self._steps = self._batches = 0

    def loss(self, logits, targets, state):
        idx = state.batch_indices
        with torch.no_grad():
            v = state.embeddings[0].detach().float()
            A = affinity(v, k=self.k, gamma=self.gamma, normalize=self.normalize)
            state.record["knn"] = knn_indices(v, k=self.k, normalize=self.normalize)
            W = dilution_matrix(A, rule=self.rule)
            Z, t = dilute(W, F.one_hot(targets, state.num_classes).float(), alpha=self.alpha, steps=self.steps,
                          tol=self.tol, max_steps=self.max_steps, return_steps=True)
            self._steps += t
            self._batches += 1
            Z = _rownorm(Z)
            warm = state.epoch < self.warmup_epochs
            if self.store_warmup or not warm:
                seen = self.seen_[idx]
                Zm = torch.where(seen[:, None], (1.0 - self.beta) * Z + self.beta * self.store_[idx], Z)
                self.store_[idx] = Zm
                self.seen_[idx] = True
            else:
                Zm = Z
            e = Zm.argmax(1) == targets
            keep = torch.ones_like(e) if warm else e
        ce = cross_entropy(logits[0], targets, reduction="none")
        self.selected = idx[keep]
        state.record["selected"] = self.selected
        state.record["candidates"] = idx
        self._kept = self._kept + keep.sum()  # a device tensor: no host sync per batch
        self._count += int(keep.numel())
        return (ce * keep.float()).sum() / ce.numel()

    def diluted_labels(self):
        """(N,) argmax of the momentum store (-1 for examples not seen yet), on the device."""
        if not hasattr(self, "store_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this LEND has not been trained; pass it to labnoise.train.fit(..., method=lend) "
                                 "and read the trained copy, result.method.diluted_labels().")
        out = self.store_.argmax(1)
        return torch.where(self.seen_, out, torch.full_like(out, -1))

    def epoch_metrics(self):
        return {"kept_fraction": float(self._kept) / max(1, self._count),
                "dilution_steps": self._steps / max(1, self._batches)}


class LabelMonitor:
    """A :class:`labnoise.train.Hook` adding to each epoch's history row, against ``fit(clean_labels=...)``:

    * ``selection_precision`` / ``selection_recall``: of the examples in ``state.record["selected"]`` (the
      first network's, for two-network methods), the share whose given label is correct; of the correctly
      labelled examples in the batches, the share selected. Absent for methods that select nothing;
    * ``diluted_label_acc``: accuracy of LEND's momentum diluted labels (argmax of the store);
    * ``predicted_label_acc``: accuracy of the model's predicted labels on the training set (eval mode), if
      ``predicted=True``;
    * ``neighbour_purity``: for a method that leaves ``state.record["knn"]`` (LEND: each example's ``k``
      neighbours in its batch, in the embedding it dilutes on), the share of those neighbours whose *true*
      class is the example's own, averaged over the epoch's examples;
    * ``given_label_acc``: the share of the epoch's examples whose given label is correct (beside the purity:
      dilution can only help where the neighbours are purer than the labels are correct).
    """

    def __init__(self, predicted: bool = True):
        self.predicted = bool(predicted)
        self._reset()

    def _reset(self):
        self._sel = self._sel_clean = self._clean = 0
        self._pure = self._pure_n = 0

    def on_batch_end(self, state):
        knn = state.record.get("knn")
        if state.clean_labels is not None and knn is not None and knn.numel():
            yc = state.clean_labels[state.batch_indices]
            self._pure = self._pure + (yc[knn] == yc[:, None]).sum()  # device tensor: no host sync per batch
            self._pure_n += int(knn.numel())
        sel = state.record.get("selected")
        if state.clean_labels is None or sel is None:
            return
        if isinstance(sel, (tuple, list)):
            sel = sel[0]
        y = state.labels if not state.labels.dtype.is_floating_point else state.labels.argmax(1)
        ok = y == state.clean_labels
        self._sel += int(sel.numel())
        self._sel_clean = self._sel_clean + ok[sel].sum()  # device tensors: no host sync per batch
        self._clean = self._clean + ok[state.batch_indices].sum()

    def on_epoch_end(self, state):
        row = state.history[-1]
        if state.clean_labels is not None:
            if self._pure_n:
                row["neighbour_purity"] = float(self._pure) / self._pure_n
                y = state.labels if not state.labels.dtype.is_floating_point else state.labels.argmax(1)
                row["given_label_acc"] = float((y == state.clean_labels).float().mean())
            if self._sel:
                row["selection_precision"] = float(self._sel_clean) / self._sel
                row["selection_recall"] = float(self._sel_clean) / max(1, float(self._clean))
            m = state.method
            if hasattr(m, "diluted_labels"):
                d = m.diluted_labels()
                seen = d >= 0
                row["diluted_label_acc"] = float((d[seen] == state.clean_labels[seen]).float().mean())
            if self.predicted:
                pred = state.predict_train(0).argmax(1)
                row["predicted_label_acc"] = float((pred == state.clean_labels).float().mean())
        self._reset()

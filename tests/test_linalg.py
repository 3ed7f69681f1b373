"""labnoise.linalg: the package's one PCA (used by t-SNE, the memorization heads and the pixels:pcaN encoder)."""
import numpy as np
import pytest

from labnoise.linalg import fit_pca, pca


def _data(n=800, d=40, seed=0):
    g = np.random.default_rng(seed)
    x = (g.normal(size=(n, d)) * np.linspace(5, 0.1, d)) @ np.linalg.qr(g.normal(size=(d, d)))[0]
    return (x + 3.0).astype(np.float32)


# the three PCAs the package had before they became one (t-SNE's, the memorization heads', the pixel encoder's),
# written out as references: the one PCA must give their numbers
def _tsne_before(x, dims):
    xc = x - x.mean(0, keepdims=True)
    _, vecs = np.linalg.eigh((xc.T @ xc).astype(np.float64))
    V = vecs[:, ::-1][:, :dims]
    V = V * np.sign(V[np.abs(V).argmax(0), np.arange(dims)])
    return np.ascontiguousarray(xc @ np.ascontiguousarray(V, dtype=np.float32))


def _memorization_before(x, dim):
    mu = x.mean(0, dtype=np.float64)
    cov = np.zeros((x.shape[1], x.shape[1]))
    for s in range(0, x.shape[0], 8192):
        xc = x[s:s + 8192].astype(np.float64) - mu
        cov += xc.T @ xc
    cov /= max(1, x.shape[0] - 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:dim]
    vals, vecs = vals[order], vecs[:, order]
    vecs *= np.where(vecs[np.abs(vecs).argmax(0), np.arange(vecs.shape[1])] < 0, -1.0, 1.0)
    proj = (vecs / np.sqrt(max(vals.mean(), 1e-12))).astype(np.float32)
    return ((x - mu.astype(np.float32)) @ proj).astype(np.float32)


def _pixels_before(x, k):
    x64 = x.astype(np.float64)
    mean = x64.mean(0)
    xc = x64 - mean
    vals, vecs = np.linalg.eigh(xc.T @ xc / max(len(x) - 1, 1))
    comps = vecs[:, ::-1][:, :k].T
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    return mean, comps, ((x.astype(np.float64) - mean) @ comps.T).astype(np.float32)


def test_same_numbers_as_the_three_pcas_it_replaces():
    x = _data(3000, 64)
    assert pca(x, 10, precision="float32").tobytes() == _tsne_before(x, 10).tobytes()
    assert pca(x, 10, scale="mean").tobytes() == _memorization_before(x, 10).tobytes()
    mean, comps, z = _pixels_before(x, 10)
    basis = fit_pca(x, 10)
    assert basis.mean.tobytes() == mean.tobytes() and basis.components.tobytes() == comps.tobytes()
    # the projection is now one float32 product (was float64, then rounded): equal up to float32 rounding
    np.testing.assert_allclose(basis.transform(x), z, rtol=0, atol=1e-5 * np.abs(z).max())


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_matches_scikit_learn_up_to_sign(precision):
    from sklearn.decomposition import PCA

    x = _data()
    ref = PCA(5).fit(x)
    basis = fit_pca(x, 5, precision=precision)
    np.testing.assert_allclose(basis.variances, ref.explained_variance_, rtol=1e-4)
    z, zr = basis.transform(x), ref.transform(x)
    signs = np.sign((z * zr).sum(0))
    np.testing.assert_allclose(z, zr * signs, atol=1e-3 * np.abs(zr).max())
    # each axis's largest loading is positive (the sign convention that makes the result deterministic)
    assert np.all(basis.components[np.arange(5), np.abs(basis.components).argmax(1)] > 0)


def test_scales_orders_and_determinism():
    x = _data()
    z = pca(x, 6)
    v = z.var(0, ddof=1)
    assert z.dtype == np.float32 and z.shape == (800, 6) and np.all(np.diff(v) < 0)
    assert np.array_equal(z, pca(x.copy(), 6))
    assert abs(pca(x, 6, scale="mean").var(0, ddof=1).mean() - 1) < 1e-3
    np.testing.assert_allclose(pca(x, 6, scale="whiten").var(0, ddof=1), 1, rtol=1e-3)
    # the seeded randomized solver finds the same leading axes
    zr = pca(x, 3, solver="randomized", seed=0)
    assert min(abs(np.corrcoef(zr[:, i], z[:, i])[0, 1]) for i in range(3)) > 0.999


def test_fit_on_a_seeded_subset_of_rows():
    x = _data(2000, 20)
    a = fit_pca(x, 4, max_rows=500, seed=0)
    idx = np.sort(np.random.default_rng(0).choice(2000, 500, replace=False))
    assert a.components.tobytes() == fit_pca(x[idx], 4).components.tobytes()
    assert not np.array_equal(a.components, fit_pca(x, 4, max_rows=500, seed=1).components)


def test_validation_messages():
    x = _data(100, 8)
    with pytest.raises(ValueError, match="n_components"):
        pca(x, 9)
    with pytest.raises(ValueError, match="n_components"):
        pca(x, 0)
    with pytest.raises(ValueError, match="precision"):
        pca(x, 2, precision="float16")
    with pytest.raises(ValueError, match="scale"):
        pca(x, 2, scale="unit")
    with pytest.raises(ValueError, match="columns"):
        fit_pca(x, 2).transform(x[:, :4])
    with pytest.raises(ValueError, match="NaN"):
        pca(np.full((10, 3), np.nan), 2)

"""labnoise._torch: the one device/precision resolver, seeding and thread helpers."""
import numpy as np
import pytest
import torch

from labnoise import _torch


def test_resolve_precision_explicit_values_pass_through():
    for p in ("fp32", "bf16"):
        assert _torch.resolve_precision(p, "cpu") == p
    assert _torch.resolve_precision("fp16", "cpu", allowed=_torch.PRECISIONS) == "fp16"


def test_resolve_precision_rejects_what_the_caller_does_not_allow():
    with pytest.raises(ValueError, match="precision.*fp32"):
        _torch.resolve_precision("fp16", "cpu")  # default allowed: auto, fp32, bf16
    with pytest.raises(ValueError, match="precision"):
        _torch.resolve_precision("int8", "cpu", allowed=_torch.PRECISIONS)


def test_auto_follows_the_cpus_bf16_units(monkeypatch):
    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: True)
    assert _torch.resolve_precision("auto", "cpu") == "bf16"
    assert _torch.resolve_precision("auto", torch.device("cpu")) == "bf16"
    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: False)
    assert _torch.resolve_precision("auto", "cpu") == "fp32"
    assert _torch.resolve_precision("auto", "meta") == "fp32"  # neither CUDA nor CPU: fp32


def test_features_and_lra_use_the_same_resolver(monkeypatch):
    from labnoise import features
    from labnoise.methods.lra_diffusion import LRADiffusion

    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: False)
    assert features._resolve_precision("auto", torch.device("cpu")) == "fp32"
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    m = LRADiffusion(k=1, epochs=1, hidden=8, depth=0, timesteps=20, ddim_steps=2, device="cpu",
                     precision="auto", progress=False).fit(x, y)
    assert m.precision_ == "fp32"
    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: True)
    assert features._resolve_precision("auto", torch.device("cpu")) == "bf16"


def test_autocast_computes_matmuls_in_bf16_and_fp32_is_a_no_op():
    a = torch.randn(8, 8)
    with _torch.autocast("cpu", "bf16"):
        assert (a @ a).dtype == torch.bfloat16
    with _torch.autocast(torch.device("cpu"), "fp32"):
        assert (a @ a).dtype == torch.float32


def test_resolve_device():
    assert _torch.resolve_device("cpu") == torch.device("cpu")
    assert _torch.resolve_device(None).type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            _torch.resolve_device("cuda")


def test_seed_everything_and_generators_repeat():
    _torch.seed_everything(7)
    a = (np.random.rand(), torch.rand(3))
    _torch.seed_everything(7)
    b = (np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and torch.equal(a[1], b[1])
    g1, g2 = _torch.torch_generator(3), _torch.torch_generator(3)
    assert torch.equal(torch.randperm(50, generator=g1), torch.randperm(50, generator=g2))


def test_torch_threads_restores_the_count(monkeypatch):
    before = torch.get_num_threads()
    with _torch.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with _torch.torch_threads(None):
        assert torch.get_num_threads() == before
    monkeypatch.setenv("LABNOISE_THREADS", "3")
    assert _torch.cpu_threads() == 3
    monkeypatch.delenv("LABNOISE_THREADS")
    assert _torch.cpu_threads() >= 1


def test_cpu_has_bf16_reads_the_cpuinfo_flags(monkeypatch):
    """``auto`` follows the CPU's flags: without avx512_bf16/amx_bf16 (an AVX2-only EPYC) it is fp32, even
    where oneDNN says it could emulate bf16; with either flag it is bf16."""
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    for flags, native in (({"avx2", "fma"}, False), ({"avx512f", "avx512_bf16"}, True),
                          ({"amx_tile", "amx_bf16"}, True)):
        monkeypatch.setattr(_torch, "_cpuinfo_flags", lambda f=flags: f)
        _torch.cpu_has_bf16.cache_clear()
        try:
            assert _torch.cpu_has_bf16() is native
            assert _torch.resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
            assert _torch.cpu_flags()["native_bf16"] is native
            assert _torch.cpu_flags()["avx512_bf16"] is ("avx512_bf16" in flags)
        finally:
            _torch.cpu_has_bf16.cache_clear()
    assert _torch.resolve_precision("fp32", "cpu") == "fp32"  # an explicit value is never overridden


def test_no_profile_forces_bf16():
    """Every profile leaves bf16 to ``auto`` (or to each method's default): bf16 is emulated, and many times
    slower than fp32, on a CPU without native bf16 units."""
    from labnoise import profiles

    for chapter, per in profiles.CHAPTERS.items():
        for name, cfg in per.items():
            assert cfg.get("precision") in (None, "auto", "fp32"), (chapter, name, cfg.get("precision"))
            assert cfg.get("matmul_dtype") in (None, "auto", "float32"), (chapter, name, cfg.get("matmul_dtype"))


def test_memorization_heads_resolve_auto_like_the_rest(monkeypatch):
    import numpy as np

    from labnoise import memorization as M

    x = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    y = np.arange(60) % 3
    cfg = M.HeadConfig(kind="linear", epochs=1, batch_size=20, matmul_dtype="auto")
    for native, dt in ((False, "float32"), (True, "bfloat16")):
        monkeypatch.setattr(_torch, "cpu_has_bf16", lambda n=native: n)
        assert M.HeadTrainer(x, y, config=cfg, device="cpu").config.matmul_dtype == dt

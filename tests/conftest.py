from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_root():
    """The offline data root prepared by .ci/run (LABNOISE_DATA); tests that need it skip when it is absent."""
    from labnoise import data

    root = data.data_root()
    return root


def needs(group):
    """Skip unless the data root has every file of ``group`` (cifar10, cifar10n, reference, ...)."""
    from labnoise import data

    return pytest.mark.skipif(not data.has_files(group), reason=f"no {group} files in the data root "
                              f"({data.data_root()}); .ci/run prepares them from ../shared")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never download: every fetch of a missing file fails fast as it would offline."""
    monkeypatch.setenv("LABNOISE_OFFLINE", "1")


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models on a small shared CPU: one intra-op thread avoids OpenMP oversubscription stalls (measured
    10-100x slower steps with two threads fighting other processes). Restores the previous count afterwards."""
    from labnoise._torch import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def smoke_book():
    """Build the smoke book once per session (`labnoise book --profile smoke`); returns the HTML folder."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "labnoise.cli", "book", "--profile", "smoke"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
    return ROOT / "_build" / "html"

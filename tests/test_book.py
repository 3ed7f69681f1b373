"""`labnoise book --profile smoke`: every chapter runs, every page is built, no error output."""
import ast
import re
import json
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

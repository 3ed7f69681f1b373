"""labnoise.methods: one registry built from the classes' own ``name`` attributes, one table of display names."""
import subprocess
import sys

import pytest

from labnoise import methods


def test_registry_names_are_the_classes_name_attributes():
    reg = methods.registry()
    assert all(cls.name == name for name, cls in reg.items())
    assert set(methods.METHOD_NAMES) == {"ce", "standard", "gce", "coteaching", "coteaching+", "jocor", "sigua",
                                         "lend", "plc"}
    for name in methods.METHOD_NAMES:
        m = methods.get_method(name)
        assert isinstance(m, reg[methods._ALIASES.get(name, name)])
    assert type(methods.get_method("standard")) is type(methods.get_method("ce")) is methods.StandardCE
    with pytest.raises(ValueError, match="method"):
        methods.get_method("bogus")


def test_display_names_cover_every_method_and_the_estimators():
    assert [methods.display_name(n) for n in ("ce", "standard", "coteaching+", "plc", "lra_diffusion", "lra_snls")] \
        == ["Standard", "Standard", "Co-teaching+", "PLC", "LRA-Diffusion", "LRA-Diffusion+SNLS"]
    assert all(methods.display_name(n) != n for n in methods.METHOD_NAMES)
    assert methods.display_name("not-a-method") == "not-a-method"
    from labnoise.experiments import tables   # the chapters' tables name methods through the registry only
    assert not hasattr(tables, "METHOD_LABELS") and tables._lab("gce") == "GCE"


def test_importing_the_package_stays_free_of_torch():
    code = "import sys, labnoise.methods as m; m.display_name; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

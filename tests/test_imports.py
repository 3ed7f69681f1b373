"""The package's import graph, read from the source (AST), has no cycles: function-level imports included."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "labnoise"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node)
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                # the deepest labnoise module that the name refers to
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t.startswith("labnoise") and t != mod:
                    graph[mod].add(t)
    # the edge from a submodule to its own parent package is dropped: Python runs the parent's __init__
    # before any submodule anyway, so that edge adds no dependency (the parent's own edges still count)
    return {m: {t for t in deps if not m.startswith(t + ".")} for m, deps in graph.items()}


def find_cycles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles between labnoise modules (function-level imports count): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_cycles():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


#: the algorithm packages: they know no chapter, so they may not import the chapter drivers
ALGORITHMS = ("labnoise.methods", "labnoise.detect", "labnoise.noise")


def imports_of_experiments(graph, packages=ALGORITHMS) -> dict[str, list[str]]:
    """``{module: [labnoise.experiments modules it imports]}`` for every module under ``packages``."""
    out = {}
    for mod, deps in graph.items():
        if any(mod == p or mod.startswith(p + ".") for p in packages):
            bad = sorted(d for d in deps if d == "labnoise.experiments" or d.startswith("labnoise.experiments."))
            if bad:
                out[mod] = bad
    return out


def test_algorithms_import_nothing_from_the_chapter_drivers():
    bad = imports_of_experiments(import_graph())
    assert not bad, ("labnoise.methods/detect/noise must not import labnoise.experiments (function-level imports "
                     "count); move the chapter code into experiments/ instead: " + "; ".join(
                         f"{m} -> {', '.join(d)}" for m, d in sorted(bad.items())))


def test_the_import_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # a function-level relative import (grid.lnl_cell imports methods.lra_diffusion inside the function)
    assert "labnoise.methods.lra_diffusion" in graph["labnoise.grid"]
    assert imports_of_experiments({"labnoise.noise.x": {"labnoise.experiments.tables", "labnoise.data"},
                                   "labnoise.grid": {"labnoise.experiments"}}) == {
        "labnoise.noise.x": ["labnoise.experiments.tables"]}

"""The library's public face: every package says what it exports, modules trade only public names,
notebooks import only public names, and the package map in `utils/__init__.py` names every part."""

import ast
import importlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UTILS = ROOT / "utils"
NOTEBOOKS = sorted(p for folder in ("lessons", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _target(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module if is_package else module.rsplit(".", 1)[0]
    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """`from utils.x import _name` (or a private module `utils._x`) anywhere in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            target = _target(node, module, is_package)
            if not target.startswith("utils"):
                continue
            if any(_private(part) for part in target.split(".")):
                found.append(f"{module}: from {target} import ...")
            found += [f"{module}: from {target} import {a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Import):
            found += [f"{module}: import {a.name}" for a in node.names
                      if a.name.startswith("utils") and any(_private(p) for p in a.name.split("."))]
    return found


def test_the_scan_finds_a_private_import():
    assert private_imports("from .train import _check_subsets, init_model", "utils.defenses.dp", False) == [
        "utils.defenses.dp: from utils.defenses.train import _check_subsets"]
    assert private_imports("import utils.widgets._display", "lesson") == ["lesson: import utils.widgets._display"]
    assert private_imports("from .layout import legend_below as _legend", "utils.plots.base") == []


def test_every_package_declares_all():
    missing = [_module_name(p) for p in UTILS.rglob("__init__.py")
               if "__all__" not in {t.id for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, ast.Assign)
                                    for t in n.targets if isinstance(t, ast.Name)}]
    assert not missing, f"packages without __all__: {missing}"


def test_modules_import_no_private_name_of_another_module():
    found = []
    for path in UTILS.rglob("*.py"):
        found += private_imports(path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py")
    assert not found, "private names imported across modules (make them public, or keep them in one module):\n" + \
        "\n".join(found)


def _code(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _parse(source: str):
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_notebooks_import_only_public_names(path):
    problems = []
    for source in _code(path):
        problems += private_imports(source, path.name)
        for node in ast.walk(_parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("utils"):
                module = importlib.import_module(node.module)
                exported = set(getattr(module, "__all__", ()))
                for alias in node.names:
                    is_submodule = importlib.util.find_spec(f"{node.module}.{alias.name}") is not None \
                        if hasattr(module, "__path__") else False
                    if alias.name not in exported and not is_submodule:
                        problems.append(f"from {node.module} import {alias.name} (not in its __all__)")
    assert not problems, f"{path.relative_to(ROOT)} imports names the library does not export:\n" + "\n".join(problems)


def test_the_package_map_names_every_subpackage_and_top_module():
    doc = importlib.import_module("utils").__doc__
    parts = sorted({_module_name(p) for p in UTILS.glob("*/__init__.py")} |
                   {_module_name(p) for p in UTILS.glob("*.py") if p.name != "__init__.py"})
    missing = [name for name in parts if f"`{name}`" not in doc]
    assert not missing, f"utils/__init__.py's module map does not name: {missing}"


def test_a_saved_notebooks_old_import_path_still_works_with_a_warning():
    import sys

    sys.modules.pop("utils.widgets._display", None)
    with pytest.warns(DeprecationWarning, match="utils.widgets.display"):
        old = importlib.import_module("utils.widgets._display")
    assert old.show_explorer is importlib.import_module("utils.widgets").show_explorer


def test_every_plot_helper_takes_its_axes_by_keyword_only():
    """``plot_x(data, ax=ax)`` everywhere: an optional ax/axes to draw into is keyword-only.

    (`layout`'s helpers take the axes they tidy as their first, required argument: not an option.)
    """
    import inspect

    import utils.plots as plots

    checked, positional = 0, []
    for module in [getattr(plots, name) for name in dir(plots) if inspect.ismodule(getattr(plots, name))]:
        for name in getattr(module, "__all__", []):
            fn = getattr(module, name)
            if not inspect.isfunction(fn):
                continue
            for parameter in inspect.signature(fn).parameters.values():
                optional = parameter.default is not parameter.empty
                if parameter.name in ("ax", "axes") and optional and name != "new_ax":
                    checked += 1
                    if parameter.kind is not parameter.KEYWORD_ONLY:
                        positional.append(f"{module.__name__}.{name}")
    assert checked > 15, checked  # the helpers were found
    assert not positional, f"make ax/axes keyword-only (after *) in: {positional}"

"""Where a graded function's answers come from, read from the notebook's source on the host (Lesson 01 onwards).

The student copy of the library still holds functions that compute some answers (the course
needs them in the lessons), and anything measured inside the student's kernel can be patched by
the student. So the grader reads the notebook itself, outside the sandbox, with `ast`, and flags
a function question for a person to look at when its function

- is not bound only by a ``def`` in the notebook (an import, an assignment, a lambda, a class, or
  not defined in any way the grader can read: ``exec``, ``globals()[...]``);
- uses, directly or through the notebook's own helpers (followed transitively), a course library
  function (``utils.*``) that its question does not allow (`FunctionQuestion.library_allowed`),
  or code from a module the notebook wrote itself (neither the library nor an installed package);
- looks names up at run time (``getattr``, ``eval``, ``exec``, ``__import__``, ``importlib``,
  ``globals``, ``vars``, ``sys.modules``), so that the grader cannot tell what it calls.

A flag never changes a score: it puts the answer in front of a person (``scores.csv``, the report).
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import sys

__all__ = ["function_flags", "LIBRARY"]

LIBRARY = "utils"  # the course library's package: what the student copy holds
_DYNAMIC = {"getattr", "eval", "exec", "__import__", "globals", "vars", "locals", "compile", "setattr"}
_DYNAMIC_MODULES = {"importlib", "sys.modules", "builtins"}
_BUILTINS = set(dir(builtins))


def _cells(nb) -> list:
    """The parsed code cells (IPython magics and shell lines blanked; a cell that does not parse is skipped)."""
    trees = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in str(cell.source).split("\n")]
        try:
            trees.append(ast.parse("\n".join(lines)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return trees


def _top_level(nodes):
    """The statements of a module, descending into if/for/while/try/with, never into def or class bodies."""
    for node in nodes:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for name in ("body", "orelse", "finalbody", "handlers"):
            yield from _top_level(getattr(node, name, []) or [])


def _import_targets(node) -> list:
    """(bound name, dotted target) of an import statement."""
    if isinstance(node, ast.Import):
        return [((a.asname or a.name.split(".")[0]), (a.name if a.asname else a.name.split(".")[0]))
                for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [((a.asname or a.name), f"{node.module}.{a.name}") for a in node.names]
    return []


def _bindings(trees) -> tuple[dict, list]:
    """``{name: [(kind, node or target)]}`` of the notebook's top level, and the star-imported modules."""
    bindings, stars = {}, []
    for tree in trees:
        for node in _top_level(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bindings.setdefault(node.name, []).append(("def", node))
            elif isinstance(node, ast.ClassDef):
                bindings.setdefault(node.name, []).append(("class", node))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                    stars.append(node.module or "")
                    continue
                for name, target in _import_targets(node):
                    bindings.setdefault(name, []).append(("import", target))
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name):
                            bindings.setdefault(leaf.id, []).append(("assign", node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                targets = [node.target] if isinstance(node, (ast.For, ast.AsyncFor)) else [
                    i.optional_vars for i in node.items if i.optional_vars is not None]
                for target in targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name):
                            bindings.setdefault(leaf.id, []).append(("assign", node))
    return bindings, stars


def _dotted(node) -> list:
    """``a.b.c`` of an attribute chain as ["a", "b", "c"]; [] when it does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return []


def _local_names(function) -> set:
    names = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)} if hasattr(function, "args") else set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not function:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(name for name, _ in _import_targets(node))
    return names


def _is_library(target: str) -> bool:
    return target == LIBRARY or target.startswith(LIBRARY + ".")


def _written_by_notebook(target: str) -> bool:
    """True for a module that is neither the standard library, nor installed, nor the course library."""
    top = target.split(".")[0]
    if _is_library(target) or top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return False
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):
        return True


class _Reader:
    """Follows what one graded function uses, through the notebook's own functions."""

    def __init__(self, bindings: dict, stars: list):
        self.bindings, self.stars = bindings, stars
        self.library, self.foreign, self.dynamic, self.unresolved = set(), set(), set(), set()
        self.seen = set()

    def target(self, dotted: str) -> None:
        if _is_library(dotted):
            self.library.add(dotted)
        elif _written_by_notebook(dotted):
            self.foreign.add(dotted)
        if dotted.split(".")[0] in ("importlib", "builtins") or dotted.startswith("sys.modules"):
            self.dynamic.add(dotted)

    def code(self, node, local: set) -> None:
        """Everything `node` (a function, an expression) refers to."""
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        # only the outermost attribute chain counts: `metrics.tpr` is `utils.metrics.tpr`, not also `utils.metrics`
        inner = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        for child in ast.walk(node):
            if id(child) in inner:
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for _, target in _import_targets(child):
                    self.target(target)
                if isinstance(child, ast.ImportFrom) and any(a.name == "*" for a in child.names):
                    self.dynamic.add(f"from {child.module} import *")
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                self.name(child.id, local, child)
            elif isinstance(child, ast.Attribute):
                parts = _dotted(child)
                if parts and parts[0] not in local:
                    self.chain(parts)
                elif not parts:  # (expression).attr: what the expression refers to is walked on its own
                    continue

    def chain(self, parts: list) -> None:
        """An attribute chain: its full dotted target when its first name is bound by an import."""
        found = self.bindings.get(parts[0], [])
        for kind, value in found:
            if kind == "import":
                self.target(".".join([value, *parts[1:]]))
        if not found or any(kind != "import" for kind, _ in found):
            self.name(parts[0], set(), None)
        if ".".join(parts[:2]) == "sys.modules":
            self.dynamic.add("sys.modules")

    def name(self, name: str, local: set, node) -> None:
        if name in local:
            return
        if name in _DYNAMIC:
            self.dynamic.add(name)
            return
        found = self.bindings.get(name)
        if not found:
            if name not in _BUILTINS:
                self.unresolved.add(name)
            return
        for kind, value in found:
            if kind == "import":
                self.target(value)
            elif kind in ("def", "class"):
                self.code(value, _local_names(value))
            else:
                self.code(value, set())


def function_flags(nb, question) -> list:
    """Why a person should look at `question`'s function in notebook `nb` (sentences; empty: nothing odd)."""
    trees = _cells(nb)
    bindings, stars = _bindings(trees)
    name = question.function_name
    found = bindings.get(name, [])
    flags = []
    if not found:
        return [f"`{name}` is not defined by a `def` the grader can read in the notebook (exec, globals(), "
                "or not at all); check by hand where its answers come from"]
    others = [(kind, value) for kind, value in found if kind != "def"]
    for kind, value in others:
        what = (f"imported from `{value}`" if kind == "import"
                else f"bound by {'a class' if kind == 'class' else 'an assignment'}")
        flags.append(f"`{name}` is {what}, not only defined by a `def` in the notebook")
    reader = _Reader(bindings, stars)
    for kind, value in found:
        if kind == "import":
            reader.target(value)
        elif kind in ("def", "class"):
            reader.code(value, _local_names(value))
        else:
            reader.code(value, set())
    allowed = tuple(getattr(question, "library_allowed", ()) or ())
    library = sorted(t for t in reader.library
                     if not any(t == a or t.startswith(a + ".") for a in allowed) and t != LIBRARY)
    if library:
        flags.append(f"`{name}` uses the course library's {', '.join(f'`{t}`' for t in library[:5])}, which this "
                     "exercise asks students to write themselves")
    if reader.foreign:
        flags.append(f"`{name}` uses {', '.join(f'`{t}`' for t in sorted(reader.foreign)[:5])}, from a module that "
                     "is neither the course library nor installed (written by the notebook?)")
    if reader.dynamic:
        flags.append(f"`{name}` looks names up at run time ({', '.join(sorted(reader.dynamic)[:5])}), so the grader "
                     "cannot tell which functions it calls")
    if reader.unresolved and any(_is_library(s) for s in stars):
        flags.append(f"`{name}` uses {', '.join(sorted(reader.unresolved)[:5])}, which may come from a star import "
                     "of the course library")
    return list(dict.fromkeys(flags))

"""The shape of the code: imports run one way, with no cycles and no imports hidden from the graph.

import-linter (`make check`) keeps the layers; these tests keep what it does not see: cycles inside a
layer, imports inside functions (grimp reads them too), and imports a static graph cannot see at all.
"""

import ast
import io
import re
import sys
import tokenize
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("config", "core", "training", "certifications", "demo")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # cache_dir=None: grimp would otherwise leave a .grimp_cache directory in the working tree.
    return grimp.build_graph(*OURS, cache_dir=None)


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Return the strongly connected components of more than one module (or a module importing itself)."""
    edges = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    # Tarjan's algorithm, iterative so a deep import chain cannot hit the recursion limit.
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(edges.get(successor, []))))
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1 or module in edges[module]:
                        cycles.append(sorted(component))
    return cycles


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """Return one cycle as the import lines that make it, for the failure message."""
    members = set(cycle)
    lines = []
    for importer in cycle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"  {importer}:{detail['line_number']}  {detail['line_contents']}")
    return "\n".join(lines)


def test_no_two_modules_of_ours_import_each_other_even_inside_functions(graph):
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n\n".join(describe(graph, cycle) for cycle in cycles)


def test_the_cycle_finder_finds_a_cycle_through_a_package_init():
    made_up = grimp.ImportGraph()
    for module in ("app", "app.models", "app.views", "app.forms"):
        made_up.add_module(module)
    made_up.add_import(importer="app.views", imported="app.forms")
    made_up.add_import(importer="app.forms", imported="app")
    made_up.add_import(importer="app", imported="app.views")
    made_up.add_import(importer="app.views", imported="app.models")
    assert import_cycles(made_up) == [["app", "app.forms", "app.views"]]


def our_source_files() -> list[Path]:
    return sorted(
        path
        for package in OURS
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


# The lint markers app code may carry, each with its reason after it on the same line: a broad except whose
# every failure means one thing to the user (BLE001), an import kept for its side effect or for other modules to
# take from here (F401), a star import (F403). Anything else is fixed in the code, not silenced.
EXPLAINED_NOQA = frozenset({"BLE001", "F401", "F403"})
NOQA = re.compile(r"\bnoqa\b(?::?\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?(?P<reason>.*)", re.IGNORECASE)


def unexplained_noqa(source: str) -> list[tuple[int, str]]:
    """Return (line, comment) for each noqa comment that is bare, names a code not explained, or gives no reason."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT or not (match := NOQA.search(token.string)):
            continue
        codes = {code.strip().upper() for code in (match["codes"] or "").split(",") if code.strip()}
        reason = match["reason"].strip(" \t-—–:;()")
        if not codes or codes - EXPLAINED_NOQA or not reason:
            found.append((token.start[0], token.string))
    return found


def test_app_code_silences_the_linter_only_where_a_reason_is_written():
    found = [
        f"{path.relative_to(ROOT)}:{line}  {comment}"
        for path in [*our_source_files(), *sorted((ROOT / "bench").rglob("*.py"))]
        for line, comment in unexplained_noqa(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"fix the code instead, or use one of {sorted(EXPLAINED_NOQA)} with a reason:\n" + "\n".join(
        found
    )


def test_the_noqa_finder_sees_each_kind():
    source = (
        "x = 1  # noqa\n"
        "l = 2  # noqa: E741\n"
        "import os  # noqa: F401\n"
        "import re  # noqa: F401 — re-exported for the admins\n"
        "import io  # noqa: F401,E402 — imported late on purpose\n"
        "text = '# noqa: E501'\n"
        "# ruff: noqa: E501\n"
        "try:\n"
        "    pass\n"
        "except Exception:  # NOQA: ble001 - any failure means the same\n"
        "    pass\n"
    )
    assert [line for line, _comment in unexplained_noqa(source)] == [1, 2, 3, 5, 7]


def classes_by_name(files: dict[str, str]) -> dict[str, list[str]]:
    """
    Return each class name defined at the top of more than one module, with its modules. A management
    command's Command (Django's required name) and a class that extends its namesake
    (`class WorkerAdmin(training_admin.WorkerAdmin)`) keep one meaning and are not counted.
    """
    found: dict[str, list[str]] = {}
    for module, source in files.items():
        for node in ast.parse(source).body:
            if not isinstance(node, ast.ClassDef) or node.name == "Command":
                continue
            if any(isinstance(base, ast.Attribute) and base.attr == node.name for base in node.bases):
                continue
            found.setdefault(node.name, []).append(module)
    return {name: modules for name, modules in found.items() if len(modules) > 1}


def test_each_class_name_has_one_meaning():
    files = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in our_source_files()}
    assert classes_by_name(files) == {}


def test_the_class_name_finder_tells_a_namesake_from_an_extension():
    files = {
        "a.py": "class HeldTrade:\n    pass\nclass WorkerAdmin:\n    pass\nclass Command:\n    pass\n",
        "b.py": "class HeldTrade:\n    pass\nclass WorkerAdmin(a.WorkerAdmin):\n    pass\nclass Command:\n    pass\n",
    }
    assert classes_by_name(files) == {"HeldTrade": ["a.py", "b.py"]}


def is_ours(name: str) -> bool:
    return name.split(".")[0] in OURS


def hidden_imports(source: str) -> list[tuple[int, str]]:
    """Return (line, why) for each import of ours that a static import graph cannot see or that may silently fail."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__") and node.args:
                target = node.args[0]
                # A name built at run time could be ours too: only a literal outside our packages is fine.
                literal = isinstance(target, ast.Constant) and isinstance(target.value, str)
                if not literal or is_ours(target.value):
                    found.append((node.lineno, f"{name}({ast.unparse(target)})"))
        elif isinstance(node, ast.Try):
            caught = set()
            for handler in node.handlers:
                types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                caught |= {getattr(t, "id", None) for t in types}
            if caught & {"ImportError", "ModuleNotFoundError", "Exception", None}:
                for statement in node.body:
                    for inner in ast.walk(statement):
                        if isinstance(inner, ast.ImportFrom) and inner.module and is_ours(inner.module):
                            found.append((inner.lineno, f"try: from {inner.module} import … except ImportError"))
                        elif isinstance(inner, ast.Import) and any(is_ours(alias.name) for alias in inner.names):
                            found.append((inner.lineno, "try: import … except ImportError"))
    return sorted(found)


def test_no_module_of_ours_imports_our_code_dynamically_or_behind_except_import_error():
    found = [
        f"{path.relative_to(ROOT)}:{line}  {why}"
        for path in our_source_files()
        for line, why in hidden_imports(path.read_text(encoding="utf-8"))
    ]
    assert not found, "imports hidden from the graph:\n" + "\n".join(found)


def test_the_hidden_import_finder_sees_each_kind():
    source = (
        "import importlib\n"
        "importlib.import_module('certifications.ranks.services')\n"
        "__import__(name)\n"
        "importlib.import_module('json')\n"
        "try:\n"
        "    from training.models import Worker\n"
        "except ImportError:\n"
        "    Worker = None\n"
        "try:\n"
        "    import lxml\n"
        "except ImportError:\n"
        "    lxml = None\n"
    )
    assert [line for line, _why in hidden_imports(source)] == [2, 3, 6]


def imports_between(graph: grimp.ImportGraph, importer: str, imported: str) -> list[str]:
    """Return each direct import from the package `importer` (or below) of the package `imported` (or below)."""

    def inside(module: str, package: str) -> bool:
        return module == package or module.startswith(package + ".")

    return sorted(
        f"{module} imports {target}"
        for module in graph.modules
        if inside(module, importer)
        for target in graph.find_modules_directly_imported_by(module)
        if inside(target, imported)
    )


def test_training_imports_nothing_from_certifications(graph):
    assert imports_between(graph, "training", "certifications") == []


@pytest.mark.parametrize("package", [p for p in OURS if p != "core"])
def test_core_imports_nothing_of_ours(graph, package):
    assert imports_between(graph, "core", package) == []

"""The package's layers, as docs/architecture.md states them, held against every import in the code.

`source/` reads the API and imports neither `pipeline/` nor Airflow; `pipeline/` imports `source/`
but not Airflow; `metrics/` (tables built in the warehouse) imports both but not Airflow; the
Airflow side (hooks, operators, warehouses) may import all three. No module
imports another module's `_private` names. Read from the source text (imports inside functions
count too), and checked once more by importing every Airflow-free module in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "airflow_provider_analytics"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE
AIRFLOW_SIDE = (f"{PACKAGE}.hooks", f"{PACKAGE}.operators", f"{PACKAGE}.warehouses", f"{PACKAGE}.connection_extras")
FORBIDDEN = {
    "source": ("airflow", f"{PACKAGE}.pipeline", f"{PACKAGE}.metrics", *AIRFLOW_SIDE),
    "pipeline": ("airflow", f"{PACKAGE}.metrics", *AIRFLOW_SIDE),
    "metrics": ("airflow", *AIRFLOW_SIDE),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names taken from it) for every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.append((node.lineno, base, [alias.name for alias in node.names]))
    return found


def is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    assert files(layer), f"no modules found under {layer}/"
    broken = [
        f"{path.relative_to(ROOT.parent)}:{line} imports {module}"
        for path in files(layer)
        for line, module, _ in imports(path)
        if any(is_under(module, prefix) for prefix in FORBIDDEN[layer])
    ]
    assert not broken, "\n".join(broken)


def test_the_check_sees_a_forbidden_import(tmp_path, monkeypatch):
    """The scan itself works: a module of source/ importing pipeline/ or Airflow is caught."""
    fake_root = tmp_path / PACKAGE
    (fake_root / "source").mkdir(parents=True)
    bad = fake_root / "source" / "bad.py"
    bad.write_text("def f():\n    from ..pipeline.sync import run_sync\n    import airflow.sdk\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert [module for _, module, _ in imports(bad)] == [f"{PACKAGE}.pipeline.sync", "airflow.sdk"]


def test_no_module_imports_another_modules_private_names():
    taken = [
        f"{path.relative_to(ROOT.parent)}:{line} takes {name} from {module}"
        for path in sorted(ROOT.rglob("*.py"))
        for line, module, names in imports(path)
        if is_under(module, PACKAGE) and module != module_name(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not taken, "\n".join(taken)


def test_airflow_free_modules_load_no_airflow():
    modules = [module_name(path) for layer in FORBIDDEN for path in files(layer)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.'))\n"
        "assert not loaded, loaded\n"
        "print(len(" + repr(modules) + "))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) == len(modules) > 20

"""The version is written once, in the package: the metadata and the provider info follow it."""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
from pathlib import Path

from setuptools.config.expand import read_attr

import airflow_provider_analytics
from airflow_provider_analytics import __version__, get_provider_info

ROOT = Path(__file__).resolve().parents[2]


def test_installed_metadata_and_provider_info_carry_the_package_version():
    assert importlib.metadata.version("airflow-provider-analytics") == __version__
    assert get_provider_info()["versions"][0] == __version__


def test_pyproject_reads_the_version_from_the_package_without_importing_it(monkeypatch):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"], "the version is written once, in __init__.py"
    assert "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "airflow_provider_analytics.__version__"

    # Forget the imported package: a read that imports it (and Airflow with it) would bring it back.
    for name in [name for name in sys.modules if name.split(".")[0] == "airflow_provider_analytics"]:
        monkeypatch.delitem(sys.modules, name)
    assert read_attr(attr, root_dir=str(ROOT)) == airflow_provider_analytics.__version__
    assert "airflow_provider_analytics" not in sys.modules

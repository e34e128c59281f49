"""The README's "Run the DAGs locally" block, run as written with bash from a checkout's layout.

What a new user pastes after `make demo` must work on the first try: activate the venv, migrate,
start the bundled fake API, test the connection, run a DAG, see what landed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.helpers import REPO

MARKER = "<!-- readme: run-locally -->"
BLOCK_TIMEOUT = 300  # seconds; about 45 on an idle two-core machine


def local_run_block(readme: str) -> str:
    """The bash block right after the marker."""
    assert readme.count(MARKER) == 1, f"README.md must hold {MARKER} once, right before the block"
    match = re.match(r"\s*```bash\n(.*?)\n```", readme.split(MARKER, 1)[1], re.S)
    assert match, f"{MARKER} must be followed by a ```bash block"
    return match.group(1)


def checkout(root: Path) -> None:
    """What the block touches of a clone: `dags/` and `.venv/bin/activate` (putting this venv first on PATH).

    The activate script is this venv's own, pointed at where the venv is now: a venv copied from
    another folder keeps the old folder in it.
    """
    venv = Path(sys.executable).parents[1]
    (root / "dags").symlink_to(REPO / "dags")
    activate = (venv / "bin" / "activate").read_text()
    activate = re.sub(r"^VIRTUAL_ENV=.*$", lambda _: f'VIRTUAL_ENV="{venv}"', activate, flags=re.M)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "activate").write_text(activate)


def clean_env() -> dict[str, str]:
    """The user's shell: no Airflow settings of the test session, no venv active."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "VIRTUAL_ENV"))}


def test_the_readme_local_run_block_works_as_written(tmp_path):
    block = local_run_block((REPO / "README.md").read_text())
    checkout(tmp_path)
    shell = subprocess.Popen(["bash", "-e", "-c", block], cwd=tmp_path, env=clean_env(), start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = shell.communicate(timeout=BLOCK_TIMEOUT)
    finally:  # the block stops the fake API itself; whatever it left running goes with its process group
        try:
            os.killpg(shell.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shell.wait(timeout=10)
    assert shell.returncode == 0, output[-5000:]
    assert "Connection success!" in output, output[-5000:]
    assert re.search(r"Fake API at http://127\.0\.0\.1:\d+\n", output), output[-5000:]
    assert "local-key" not in output  # the API key the block gives the fake is never printed

    alerts = int(re.search(r"--alerts (\d+)", block).group(1))
    warehouse = tmp_path / ".airflow-local" / "analytics" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from analytics.alerts").fetchone() == (alerts, alerts)
        schemas = {name for (name,) in con.execute("select schema_name from information_schema.schemata").fetchall()}
    assert not any("_staging_" in name for name in schemas), schemas
    shown = re.findall(r"│\s*(\w+)\s*│\s*(\d+)\s*│", output)  # the block's last query, as DuckDB prints it
    assert sum(int(n) for _, n in shown) == alerts, output[-2000:]

"""Airflow's long-running components as real processes, and a client for its REST API.

The end-to-end tests start the api-server, scheduler, dag-processor and, for the Celery topology,
a Celery worker exactly as an operator would, each in its own process group so that stopping the
stack also stops every child it forked. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

T = TypeVar("T")

ADMIN_USER, ADMIN_PASSWORD = "admin", "e2e-admin-password"
COMMANDS = {
    "api-server": ["api-server", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "celery-worker": ["celery", "worker", "--concurrency", "{concurrency}", "--queues", "{queue}"],
}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], T | None], *, timeout: float, interval: float, what: str,
             on_timeout: Callable[[], str] = lambda: "") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}\n{on_timeout()}")
        time.sleep(interval)


def base_env(home: Path, dags_folder: Path, api_port: int) -> dict[str, str]:
    """Settings every component shares: home, DAGs, the api-server's address, auth and secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({ADMIN_USER: ADMIN_PASSWORD}))
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{ADMIN_USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{api_port}",
        AIRFLOW__API_AUTH__JWT_SECRET=os.urandom(16).hex(),
        AIRFLOW__API__SECRET_KEY=os.urandom(16).hex(),
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        RUNTIME__DLTHUB_TELEMETRY="false",
    )
    return env


@dataclass
class AirflowStack:
    """Airflow components started as separate processes; a context manager that always stops them."""

    home: Path
    env: dict[str, str]
    api_port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run one Airflow CLI command to completion with the stack's settings."""
        return subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def migrate(self) -> None:
        result = self.airflow("db", "migrate")
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")

    def create_pool(self, name: str, slots: int, description: str) -> None:
        """An Airflow pool, as an operator creates it with the CLI."""
        result = self.airflow("pools", "set", name, str(slots), description)
        if result.returncode != 0:
            raise RuntimeError(f"airflow pools set failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")

    def start(self, component: str, **options: object) -> None:
        """Start one component (a key of COMMANDS); its output goes to logs/<component>.log."""
        values = {"port": self.api_port, **options}
        args = [arg.format(**values) for arg in COMMANDS[component]]
        log_dir = self.home / "component-logs"
        log_dir.mkdir(exist_ok=True)
        with open(log_dir / f"{component}.log", "wb") as log:
            self.processes[component] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def log(self, component: str) -> str:
        path = self.home / "component-logs" / f"{component}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tails(self, chars: int = 2500) -> str:
        """The end of every component's log, for a failure message."""
        return "\n".join(f"----- {name} -----\n{self.log(name)[-chars:]}" for name in self.processes)

    def check_running(self) -> None:
        """Fail at once, with its log, if a component has exited."""
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}:\n{self.log(name)[-4000:]}")

    def wait_until_healthy(self, timeout: float = 180) -> None:
        def healthy() -> bool:
            self.check_running()
            try:
                return requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, timeout=timeout, interval=1, what="the api-server's health endpoint",
                 on_timeout=self.log_tails)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM every process group, then SIGKILL what is left after `grace` seconds."""
        for proc in self.processes.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for pid in [proc.pid for proc in self.processes.values()]:
            wait_for(lambda pid=pid: not group_alive(pid), timeout=15, interval=0.2,
                     what=f"process group {pid} to exit")

    def __enter__(self) -> AirflowStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still exists (zombies of ours are reaped by wait)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class RestClient:
    """Airflow's public REST API (v2) with a token from the simple auth manager."""

    def __init__(self, base_url: str, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD) -> None:
        self.base_url = base_url
        token = requests.post(f"{base_url}/auth/token", json={"username": username, "password": password},
                              timeout=30)
        token.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=30, **kwargs)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json()

    def wait_for_dag(self, dag_id: str, timeout: float, on_timeout: Callable[[], str]) -> dict:
        """Wait until the dag-processor has parsed `dag_id` and the API serves it."""
        def parsed() -> dict | None:
            response = self.request("GET", f"/dags/{dag_id}")
            return response.json() if response.status_code == 200 else None

        return wait_for(parsed, timeout=timeout, interval=2, what=f"DAG {dag_id} to be parsed",
                        on_timeout=on_timeout)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, on_timeout: Callable[[], str]) -> dict:
        """Wait until the run reaches a final state; return it."""
        def finished() -> dict | None:
            run = self.json("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            return run if run["state"] in ("success", "failed") else None

        return wait_for(finished, timeout=timeout, interval=2, what=f"run {run_id} of {dag_id} to finish",
                        on_timeout=on_timeout)

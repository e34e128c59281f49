"""The docker-compose stack run natively: its settings and init script on this machine's services.

The Airflow settings come from `docker-compose.yaml` itself, with the services' host names replaced
by this machine's: Redis on loopback as the broker, a PostgreSQL database of its own as the
metadata DB, another as the warehouse. Used by the Celery end-to-end test and by
`bench/celery_vs_dags_test.py`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.e2e.airflow_stack import AirflowStack, RestClient, free_port, wait_for
from tests.local_services import PG_HOST, PG_PORT
from tests.helpers import REPO

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
WAREHOUSE_CONN_ID = "warehouse_pg"


def forget_queue(queue: str) -> None:
    """Remove what Celery left on the shared Redis for a queue of our own."""
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0, socket_timeout=5)
    try:
        keys = [queue, *client.scan_iter(match=f"_kombu.binding*.{queue}", count=1000)]
        client.delete(*keys)
    finally:
        client.close()


def warehouse_conn_json(dbname: str) -> str:
    return json.dumps({"conn_type": "postgres", "host": PG_HOST, "port": PG_PORT, "login": "postgres",
                       "schema": dbname})


def analytics_conn_json(api_url: str, key: str) -> str:
    return json.dumps({"conn_type": "analytics", "host": api_url, "password": key})


def compose_file() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR:-default}`: the variable when given, else the default."""
    return re.sub(r"\$\{([A-Z_]+):-([^}]*)\}", lambda m: variables.get(m.group(1), m.group(2)), text)


def native(value: str, home: Path, api_port: int, databases: dict[str, str]) -> str:
    """A compose setting with the services' host names replaced by this machine's services."""
    local_pg = f"postgres@{PG_HOST}:{PG_PORT}"
    result = (value.replace("airflow:airflow@postgres/airflow", f"{local_pg}/{databases['metadata']}")
              .replace("@redis:6379", f"@{REDIS_HOST}:{REDIS_PORT}")
              .replace("http://airflow-apiserver:8080", f"http://127.0.0.1:{api_port}")
              .replace("/opt/airflow/config", str(home / "config")))
    leftover = re.search(r"@postgres\b|@redis\b|airflow-apiserver|/opt/airflow", result)
    if leftover:  # the compose file changed in a way this translation does not know
        raise ValueError(f"no local counterpart for {leftover.group()!r} in {value!r}")
    return result


def celery_env(home: Path, api_port: int, databases: dict[str, str], api_url: str, key: str,
               queue: str) -> tuple[dict[str, str], str]:
    """The compose file's Airflow settings and init script, pointed at this machine's services.

    Returns the environment and the init script (without its `chown`). The API connection is set
    the way the README tells users to point the stack at a real account (ANALYTICS_API_URL/KEY).
    """
    compose = compose_file()
    variables = {"ANALYTICS_API_URL": api_url, "ANALYTICS_API_KEY": key}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    for name, value in compose["x-airflow-common"]["environment"].items():
        env[name] = native(interpolate(str(value), variables), home, api_port, databases)
    warehouse = json.loads(env["AIRFLOW_CONN_WAREHOUSE_PG"])
    warehouse.update(host=PG_HOST, port=PG_PORT, login="postgres", schema=databases["warehouse"])
    warehouse.pop("password")  # trust auth here
    env["AIRFLOW_CONN_WAREHOUSE_PG"] = json.dumps(warehouse)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # `airflow` in the script
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),  # the compose file mounts ./dags there
        # ports the containers have to themselves; here other Airflows may run beside
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT=str(free_port()),
        # a queue of its own, so that no other worker on the shared Redis takes these tasks
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,
        # only the runs that are triggered: no scheduled run for the latest interval
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        RUNTIME__DLTHUB_TELEMETRY="false",
    )
    script = compose["services"]["airflow-init"]["command"][-1]
    init = [native(line, home, api_port, databases) for line in script.splitlines()
            if not line.strip().startswith("chown ")]
    (home / "config").mkdir(exist_ok=True)
    return env, "\n".join(init)


def run_init(stack: AirflowStack, script: str) -> None:
    """The compose file's airflow-init: passwords file, config with its secrets, migration, provider check."""
    result = subprocess.run(["bash", "-c", script], env=stack.env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"the init script failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                           f"{result.stderr[-3000:]}")


def compose_login(home: Path) -> tuple[str, str]:
    """The UI user the init script wrote, as a user of the compose stack would read it."""
    passwords = json.loads((home / "config" / "simple_auth_manager_passwords.json").read_text())
    return next(iter(passwords.items()))


@dataclass
class CeleryRun:
    """What one triggered run left behind, read back over the REST API."""

    run: dict
    tasks: list[dict]
    all_runs: list[dict]
    trigger_to_finish_s: float
    worker_log: str


def run_dag_on_celery(stack: AirflowStack, init_script: str, dag_id: str, queue: str, *, concurrency: int = 3,
                      timeout: float = 420) -> CeleryRun:
    """Init, start the four components, unpause `dag_id`, trigger it over the REST API, wait for the end."""
    run_init(stack, init_script)
    stack.start("api-server")
    stack.start("scheduler")
    stack.start("dag-processor")
    stack.start("celery-worker", concurrency=concurrency, queue=queue)
    stack.wait_until_healthy()
    rest = RestClient(stack.api_url, *compose_login(stack.home))
    rest.wait_for_dag(dag_id, timeout=180, on_timeout=stack.log_tails)
    started = time.monotonic()
    rest.json("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    run = rest.json("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
    run = rest.wait_for_run(dag_id, run["dag_run_id"], timeout=timeout, on_timeout=stack.log_tails)
    elapsed = time.monotonic() - started
    tasks = rest.json("GET", f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances")["task_instances"]
    all_runs = rest.json("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]

    # the run can be marked done before the worker logs its last Celery task's end: wait for it
    def ended() -> bool:
        log = stack.log("celery-worker")
        return log.count(" succeeded in ") + log.count(" raised unexpected") >= len(tasks)

    wait_for(ended, timeout=60, interval=0.5, what="the Celery worker to finish its tasks", on_timeout=stack.log_tails)
    stack.check_running()
    return CeleryRun(run, tasks, all_runs, elapsed, stack.log("celery-worker"))

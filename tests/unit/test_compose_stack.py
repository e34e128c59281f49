"""The docker-compose stack and the Dockerfile, checked by parsing (no Docker engine runs here)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.e2e.celery_topology import interpolate
from tests.helpers import REPO

AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def test_every_service_of_the_stack_is_there(compose):
    assert set(compose["services"]) == {"postgres", "redis", "warehouse", "fake-api", "airflow-init", *AIRFLOW_SERVICES}


def test_long_running_services_have_health_checks_and_wait_for_what_they_need(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "warehouse", *AIRFLOW_SERVICES):
        assert services[name]["healthcheck"]["test"], name
    for name in AIRFLOW_SERVICES:
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == needs["redis"]["condition"] == "service_healthy", name
        assert needs["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["warehouse"]["condition"] == "service_healthy"
    assert "db migrate" in "\n".join(services["airflow-init"]["command"])


def test_airflow_runs_the_celery_executor_on_redis_with_postgres_metadata(compose):
    for name in AIRFLOW_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://") and "@postgres/" in env[
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert "./dags:/opt/airflow/dags" in compose["services"][name]["volumes"]
    commands = {name: compose["services"][name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
                        "airflow-worker": "celery worker"}


def test_connections_point_at_the_fake_api_and_the_warehouse(compose):
    env = compose["services"]["airflow-worker"]["environment"]
    api = json.loads(interpolate(env["AIRFLOW_CONN_ANALYTICS_DEFAULT"], {}))
    assert api["conn_type"] == "analytics" and api["host"] == "http://127.0.0.1:8081"
    warehouse = json.loads(env["AIRFLOW_CONN_WAREHOUSE_PG"])
    assert warehouse["conn_type"] == "postgres" and warehouse["host"] == "warehouse"
    assert env["ANALYTICS_WAREHOUSE_CONN_ID"] == "warehouse_pg"
    fake = compose["services"]["fake-api"]
    assert fake["network_mode"] == "service:airflow-worker"  # loopback of the worker, where syncs run
    assert fake["command"][fake["command"].index("--port") + 1] == "8081"
    assert fake["command"][fake["command"].index("--api-key") + 1] == api["password"]


def test_the_image_is_airflow_3_3_2_with_the_provider_installed_from_the_checkout(compose):
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.2", dockerfile, re.M)
    assert "COPY --chown=airflow:root airflow_provider_analytics" in dockerfile
    assert '"apache-airflow==3.3.2" "/opt/airflow-provider-analytics[postgres]"' in dockerfile
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "." and "_PIP_ADDITIONAL_REQUIREMENTS" not in service["environment"]


def test_every_component_shares_one_config_file_so_task_tokens_verify(compose):
    """Each container generating its own jwt_secret makes the api-server refuse the workers' tokens."""
    services = compose["services"]
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        env, volumes = services[name]["environment"], services[name]["volumes"]
        assert env["AIRFLOW_CONFIG"] == "/opt/airflow/config/airflow.cfg", name
        assert "airflow-config:/opt/airflow/config" in volumes, name
        assert "AIRFLOW__API_AUTH__JWT_SECRET" not in env, name  # never a secret committed in the file
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/", name
    init = "\n".join(services["airflow-init"]["command"])
    # the config is written (as root) before the files are handed to the airflow user
    assert init.index("airflow config list") < init.index("chown -R")


def test_the_init_creates_the_pool_the_example_dags_run_their_sync_tasks_in(compose):
    from airflow_provider_analytics import DEFAULT_CONN_ID
    from airflow_provider_analytics.task_defaults import API_POOL_SLOTS, api_pool

    script = compose["services"]["airflow-init"]["command"][-1]
    pools = re.findall(r"^\s*airflow pools set (\S+) (\d+) ", script, flags=re.MULTILINE)
    assert pools == [(api_pool(DEFAULT_CONN_ID), str(API_POOL_SLOTS))]
    assert script.index("db migrate") < script.index("pools set")  # the pool table exists by then

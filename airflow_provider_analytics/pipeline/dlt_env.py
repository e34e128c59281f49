"""Settings dlt must see before a sync starts: no telemetry, no Airflow-Variable lookups, logs through logging."""

from __future__ import annotations

import logging
import os

#: dlt's config provider that reads the `dlt_secrets_toml` Airflow Variable.
AIRFLOW_SECRETS_PROVIDER = "Airflow Secrets TOML Provider"
#: dlt warnings that a sync triggers by design, with why each says nothing a reader can act on.
_EXPECTED_WARNINGS = (
    # once per Arrow table: `json` columns arrive as JSON text, which is how dlt itself loads JSON from Arrow
    "when merging arrow schema with dlt schema, several column hints were different",
    # once per PostgreSQL load: Arrow pages are written as INSERTs on purpose (`Warehouse.arrow_file_format`)
    "yielded as arrow and job file format insert_values",
)


def prepare_dlt_environment(use_airflow_secrets: bool = False) -> None:
    """Set dlt's environment for a sync (idempotent; settings the user made stay).

    Our secrets come from Airflow connections; dlt's Airflow provider would otherwise query an
    Airflow Variable for every setting it resolves (slow, and noisy without a metadata DB).
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # Arrow pages get dlt's row ids like record pages, so both kinds can land in one table.
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    if not use_airflow_secrets:
        os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
    if os.environ.get("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "").lower() in ("false", "0", "no"):
        _drop_airflow_secrets_provider()
    _quiet_expected_warnings()
    _log_through_python_logging()


class _ExpectedWarningFilter(logging.Filter):
    """Drops dlt's warnings about choices a sync makes on purpose: in a task log they would show on
    every sync, and readers learn to ignore warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(expected in message for expected in _EXPECTED_WARNINGS)


def _quiet_expected_warnings() -> None:
    dlt_logger = logging.getLogger("dlt")
    if not any(isinstance(f, _ExpectedWarningFilter) for f in dlt_logger.filters):
        dlt_logger.addFilter(_ExpectedWarningFilter())


class _HandToRootLogger(logging.Handler):
    """Passes dlt's records to the root logger's handlers, at their own level, as propagation would.

    dlt turns propagation off on its logger and writes to stderr with a handler of its own, each time
    it sets up its runtime; Airflow 3's task supervisor records a task's stderr as ERROR lines. dlt
    keeps the first handler it finds on its logger, so this one stays when dlt sets up again.
    """

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger().handle(record)


def _log_through_python_logging() -> None:
    """Route the `dlt` logger's records through Python logging (Airflow's task log), not stderr.

    Its level stays dlt's (`RUNTIME__LOG_LEVEL`, WARNING by default). dlt's own stderr handler, if dlt
    set up its logger before this ran, is replaced; other handlers stay.
    """
    dlt_logger = logging.getLogger("dlt")
    if any(isinstance(h, _HandToRootLogger) for h in dlt_logger.handlers):
        return
    for handler in list(dlt_logger.handlers):
        if type(handler) is logging.StreamHandler:  # dlt's own: a bare stream handler on stderr
            dlt_logger.removeHandler(handler)
    dlt_logger.addHandler(_HandToRootLogger())


def _drop_airflow_secrets_provider() -> None:
    """If dlt was initialised before our setting (e.g. imported by a DAG file), remove the provider."""
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    context = Container()[PluggableRunContext]
    providers = context.providers.providers
    context.providers.providers = [p for p in providers if p.name != AIRFLOW_SECRETS_PROVIDER]

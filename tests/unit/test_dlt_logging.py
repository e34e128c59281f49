"""dlt's log lines reach Python logging at their own level, never dlt's own stderr handler: under
Airflow 3's task supervisor every stderr line is recorded as an ERROR."""

from __future__ import annotations

import logging

from airflow_provider_analytics.pipeline.dlt_env import prepare_dlt_environment


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("dlt says"):
            self.seen.append((record.name, record.levelname, record.getMessage()))


def _dlt_runtime_set_up_again() -> None:
    """What dlt does when its run context comes back: its logger set up anew (propagation off)."""
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    Container()[PluggableRunContext].initialize_runtime()


def test_dlt_records_reach_the_root_logger_at_their_level_and_nothing_goes_to_stderr(capfd):
    from dlt.common import logger as dlt_logger

    prepare_dlt_environment()
    _dlt_runtime_set_up_again()
    prepare_dlt_environment()  # idempotent: one route, not two
    root, collect = logging.getLogger(), _Collect()
    root.addHandler(collect)  # where Airflow's task log handler sits
    try:
        dlt_logger.warning("dlt says: a warning")
        dlt_logger.info("dlt says: below dlt's level")
        _dlt_runtime_set_up_again()
        dlt_logger.warning("dlt says: after setting up again")
    finally:
        root.removeHandler(collect)
    assert collect.seen == [("dlt", "WARNING", "dlt says: a warning"),
                            ("dlt", "WARNING", "dlt says: after setting up again")]
    assert not [h for h in logging.getLogger("dlt").handlers if type(h) is logging.StreamHandler]
    assert "dlt says" not in capfd.readouterr().err

"""Lets ``python -m airflow_provider_analytics.testing.fake_api`` serve the fake (see :mod:`.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())

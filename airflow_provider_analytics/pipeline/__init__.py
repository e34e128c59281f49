"""One resource into one warehouse table with dlt: options, orchestration, deletions, errors.

Imports `source/`, never Airflow: the Airflow side (hooks, operators, warehouses) builds what
this package needs (API settings, a `Warehouse`, `SyncOptions`) and calls `run_sync`.
"""

"""Response metrics built inside the warehouse from the synced tables (no Airflow here).

`build.build_metrics` rebuilds the metric tables with the SQL of `sql.py`; `report.write_report`
draws them as one HTML page; docs/metrics.md defines every column.
"""

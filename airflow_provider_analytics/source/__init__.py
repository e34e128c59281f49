"""Reading the API: settings, the catalog, typed plans, HTTP, paging, the built-in fast path.

Imports neither `pipeline/` nor Airflow, so each piece runs and is tested alone.
"""

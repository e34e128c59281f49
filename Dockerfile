# Airflow 3.3.2 with this provider installed from the checkout (not _PIP_ADDITIONAL_REQUIREMENTS:
# the image is built once, with the provider's pinned dependencies resolved against Airflow's).
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root pyproject.toml README.md /opt/airflow-provider-analytics/
COPY --chown=airflow:root airflow_provider_analytics /opt/airflow-provider-analytics/airflow_provider_analytics

# Keep the image's Airflow: the provider must not upgrade or downgrade it.
RUN pip install --no-cache-dir "apache-airflow==3.3.2" "/opt/airflow-provider-analytics[postgres]" \
 && python -c "import airflow_provider_analytics, dlt, duckdb, psycopg2"

"""Cloud warehouse mappings: Airflow connection -> dlt destination and credentials.

These warehouses cannot run here, so the tests stop at the dlt destination: its name, the
credentials dlt will connect with, the resolved client configuration, and that no secret
reaches the location or any repr.
"""

from __future__ import annotations

import json
import sys
import types

import pytest

from airflow_provider_analytics.pipeline.warehouse import Warehouse
from airflow_provider_analytics.warehouses import (
    WAREHOUSE_MAPPINGS,
    WarehouseConfigError,
    resolve_warehouse,
    warehouse_from_connection,
)

SF_PASSWORD = "sf-Pa55word-7d1e"
GCP_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAAS-not-a-real-key\n-----END PRIVATE KEY-----"
RS_PASSWORD = "rs-Pa55word-93c2"
MS_PASSWORD = "ms-Pa55word-5b0a"
DBX_TOKEN = "dapi0123456789abcdef0123456789ab"
MD_TOKEN = "md-token-eyJhbGciOiJIUzI1NiJ9"
ODBC_18 = "ODBC Driver 18 for SQL Server"


def connection(conn_type: str, conn_id: str = "warehouse", extra: dict | None = None, **fields: object):
    from airflow.sdk import Connection

    return Connection(conn_id=conn_id, conn_type=conn_type, extra=json.dumps(extra or {}), **fields)


def service_account(**overrides: object) -> dict:
    info = {
        "type": "service_account",
        "project_id": "key-project",
        "private_key_id": "0f1e2d3c",
        "private_key": GCP_PRIVATE_KEY,
        "client_email": "loader@key-project.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    info.update(overrides)
    return {key: value for key, value in info.items() if value is not None}


def resolved_config(destination):
    """The client configuration dlt builds for a load, with the dataset bound as a pipeline does."""
    return destination.configuration(destination.spec()._bind_dataset_name("analytics"))


def assert_secret_free(warehouse: Warehouse, *secrets: str) -> None:
    shown = [warehouse.location, repr(warehouse), str(warehouse), repr(warehouse.destination())]
    for secret in secrets:
        for text in shown:
            assert secret not in text


VALID = {
    "snowflake": lambda: connection(
        "snowflake", login="LOADER", password=SF_PASSWORD, extra={"account": "xy12345", "database": "ANALYTICS"}
    ),
    "google_cloud_platform": lambda: connection(
        "google_cloud_platform", extra={"keyfile_dict": json.dumps(service_account())}
    ),
    "redshift": lambda: connection(
        "redshift", host="cluster.abc.redshift.amazonaws.com", login="loader", password=RS_PASSWORD, schema="dev"
    ),
    "mssql": lambda: connection(
        "mssql", host="sql.internal", login="loader", password=MS_PASSWORD, schema="analytics", extra={"driver": ODBC_18}
    ),
    "databricks": lambda: connection(
        "databricks",
        host="adb-123.4.azuredatabricks.net",
        password=DBX_TOKEN,
        extra={"http_path": "/sql/1.0/warehouses/abc", "catalog": "main"},
    ),
    "motherduck": lambda: connection("motherduck", schema="analytics", password=MD_TOKEN),
}
DLT_NAMES = {
    "snowflake": "snowflake",
    "google_cloud_platform": "bigquery",
    "redshift": "redshift",
    "mssql": "mssql",
    "databricks": "databricks",
    "motherduck": "motherduck",
}
SECRETS = {
    "snowflake": SF_PASSWORD,
    "google_cloud_platform": "not-a-real-key",
    "redshift": RS_PASSWORD,
    "mssql": MS_PASSWORD,
    "databricks": DBX_TOKEN,
    "motherduck": MD_TOKEN,
}


def test_every_cloud_type_is_registered_next_to_duckdb_and_postgres():
    assert set(WAREHOUSE_MAPPINGS) == {"duckdb", "postgres", "postgresql", *VALID}


@pytest.mark.parametrize("conn_type", sorted(VALID))
def test_mapping_builds_the_dlt_destination_with_complete_credentials(conn_type):
    warehouse = warehouse_from_connection(VALID[conn_type]())
    destination = warehouse.destination(staging_dataset_name_layout="%s_staging_alerts")

    assert warehouse.kind == DLT_NAMES[conn_type]
    assert destination.destination_name == DLT_NAMES[conn_type]
    assert destination.config_params["staging_dataset_name_layout"] == "%s_staging_alerts"
    credentials = destination.config_params["credentials"]
    assert credentials.is_resolved()
    config = resolved_config(destination)  # dlt accepts them without reading env or secrets.toml
    assert config.credentials is credentials
    assert config.staging_dataset_name_layout == "%s_staging_alerts"
    assert not warehouse.is_single_writer
    assert_secret_free(warehouse, SECRETS[conn_type])


def test_the_connection_type_is_matched_case_insensitively():
    conn = VALID["redshift"]()
    conn.conn_type = "Redshift"
    assert warehouse_from_connection(conn).kind == "redshift"


# --- snowflake ---------------------------------------------------------------------------------


def test_snowflake_reads_the_hooks_extras_and_appends_the_region_to_the_account():
    conn = connection(
        "snowflake",
        login="LOADER",
        password=SF_PASSWORD,
        schema="IGNORED_SCHEMA",
        extra={
            "account": "xy12345",
            "region": "eu-west-1",
            "database": "ANALYTICS",
            "warehouse": "LOAD_WH",
            "role": "LOADER_ROLE",
        },
    )
    warehouse = warehouse_from_connection(conn)
    credentials = warehouse.destination().config_params["credentials"]

    assert (credentials.host, credentials.database, credentials.username, credentials.password) == (
        "xy12345.eu-west-1",
        "ANALYTICS",
        "LOADER",
        SF_PASSWORD,
    )
    assert (credentials.warehouse, credentials.role, credentials.authenticator) == ("LOAD_WH", "LOADER_ROLE", None)
    params = credentials.to_connector_params()
    assert params["account"] == "xy12345.eu-west-1" and params["warehouse"] == "LOAD_WH"
    assert warehouse.location == "snowflake://xy12345.eu-west-1/ANALYTICS"


def test_snowflake_does_not_repeat_a_region_already_in_the_account_and_reads_prefixed_extras():
    conn = connection(
        "snowflake",
        login="LOADER",
        password=SF_PASSWORD,
        extra={
            "extra__snowflake__account": "xy12345.eu-west-1",
            "extra__snowflake__region": "eu-west-1",
            "extra__snowflake__database": "RAW",
            "extra__snowflake__warehouse": "WH",
        },
    )
    credentials = warehouse_from_connection(conn).destination().config_params["credentials"]
    assert (credentials.host, credentials.database, credentials.warehouse) == ("xy12345.eu-west-1", "RAW", "WH")


def _rsa_key(passphrase: bytes | None):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, der


def test_snowflake_key_pair_uses_the_password_as_the_passphrase_as_the_airflow_hook_does():
    pem, der = _rsa_key(b"key-passphrase-31f")
    conn = connection(
        "snowflake",
        login="LOADER",
        password="key-passphrase-31f",
        extra={"account": "xy12345", "database": "ANALYTICS", "private_key_content": pem},
    )
    warehouse = warehouse_from_connection(conn)
    credentials = warehouse.destination().config_params["credentials"]

    assert credentials.password is None
    assert credentials.private_key_passphrase == "key-passphrase-31f"
    params = credentials.to_connector_params()
    assert params["private_key"] == der  # dlt decrypted the key with the passphrase
    assert params["password"] is None and "private_key_passphrase" not in params
    assert_secret_free(warehouse, "key-passphrase-31f", pem.splitlines()[1])


@pytest.mark.parametrize("password", [None, "wrong-passphrase"])
def test_snowflake_key_that_cannot_be_decrypted_fails_when_the_mapping_runs(password):
    pem, _ = _rsa_key(b"key-passphrase-31f")
    conn = connection(
        "snowflake",
        conn_id="sf_prod",
        login="LOADER",
        password=password,
        extra={"account": "xy12345", "database": "ANALYTICS", "private_key_content": pem},
    )
    with pytest.raises(WarehouseConfigError, match=r"'sf_prod' \(snowflake\) has a private key that cannot be read"):
        warehouse_from_connection(conn)


def test_snowflake_private_key_file_is_read_when_the_mapping_runs(tmp_path):
    pem, der = _rsa_key(None)
    key_file = tmp_path / "rsa_key.p8"
    key_file.write_text(pem)
    conn = connection(
        "snowflake",
        login="LOADER",
        extra={"account": "xy12345", "database": "ANALYTICS", "private_key_file": str(key_file)},
    )
    credentials = warehouse_from_connection(conn).destination().config_params["credentials"]

    assert credentials.private_key_path == str(key_file)
    assert credentials.private_key == pem
    assert credentials.to_connector_params()["private_key"] == der


def test_snowflake_unreadable_private_key_file_names_the_connection(tmp_path):
    missing = tmp_path / "absent.p8"
    conn = connection(
        "snowflake",
        conn_id="sf_prod",
        login="LOADER",
        extra={"account": "a", "database": "d", "private_key_file": str(missing)},
    )
    with pytest.raises(WarehouseConfigError, match=r"'sf_prod' \(snowflake\) was rejected by dlt") as error:
        warehouse_from_connection(conn)
    assert str(missing) in str(error.value)


def test_snowflake_other_authenticators_pass_through_without_a_password():
    conn = connection(
        "snowflake", login="me@example.com", extra={"account": "a", "database": "d", "authenticator": "externalbrowser"}
    )
    credentials = warehouse_from_connection(conn).destination().config_params["credentials"]
    assert credentials.authenticator == "externalbrowser"
    assert credentials.password is None


@pytest.mark.parametrize(
    ("login", "password", "extra", "message"),
    [
        ("u", "p", {"database": "d"}, "has no account: set extra 'account'"),
        ("u", "p", {"account": "a"}, "has no database: set extra 'database'"),
        (None, "p", {"account": "a", "database": "d"}, "has no user: set login"),
        ("u", None, {"account": "a", "database": "d"}, "has no password: set password, or a key pair"),
        ("u", "p", {"account": "a", "database": "d", "private_key_file": "/k", "private_key_content": "k"}, "keep one"),
        ("u", "p", {"account": "a", "database": "d", "authenticator": "oauth"}, "uses OAuth"),
        ("u", "p", {"account": "a", "database": "d", "refresh_token": "r"}, "uses OAuth"),
    ],
)
def test_snowflake_errors_name_the_connection_and_the_field(login, password, extra, message):
    conn = connection("snowflake", conn_id="sf_prod", login=login, password=password, extra=extra)
    with pytest.raises(WarehouseConfigError, match="'sf_prod' \\(snowflake\\)") as error:
        warehouse_from_connection(conn)
    assert message in str(error.value)


# --- bigquery ----------------------------------------------------------------------------------


def test_bigquery_service_account_from_keyfile_dict_string_with_project_and_location():
    conn = connection(
        "google_cloud_platform",
        extra={"keyfile_dict": json.dumps(service_account()), "project": "jobs-project", "location": "EU"},
    )
    warehouse = warehouse_from_connection(conn)
    destination = warehouse.destination()
    credentials = destination.config_params["credentials"]

    assert credentials.project_id == "key-project"
    assert credentials.client_email == "loader@key-project.iam.gserviceaccount.com"
    assert credentials.private_key == GCP_PRIVATE_KEY + "\n"  # dlt appends the newline PEM parsing needs
    assert credentials.private_key_id == "0f1e2d3c"
    config = resolved_config(destination)
    assert (config.project_id, config.location) == ("jobs-project", "EU")
    assert warehouse.location == "bigquery://jobs-project"
    assert_secret_free(warehouse, "not-a-real-key", "BEGIN PRIVATE KEY")


def test_bigquery_keyfile_as_a_dict_under_the_prefixed_key_defaults_to_the_keys_project_and_us():
    conn = connection("google_cloud_platform", extra={"extra__google_cloud_platform__keyfile_dict": service_account()})
    warehouse = warehouse_from_connection(conn)
    destination = warehouse.destination()

    assert "project_id" not in destination.config_params and "location" not in destination.config_params
    config = resolved_config(destination)
    assert config.credentials.project_id == "key-project"
    assert config.location == "US"  # dlt's default
    assert warehouse.location == "bigquery://key-project"


def test_bigquery_key_path_reads_the_json_key_file(tmp_path):
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(service_account(project_id="file-project")))
    conn = connection("google_cloud_platform", extra={"key_path": str(key_file)})
    warehouse = warehouse_from_connection(conn)
    credentials = warehouse.destination().config_params["credentials"]
    assert credentials.project_id == "file-project"
    assert credentials.client_email == "loader@key-project.iam.gserviceaccount.com"
    assert warehouse.location == "bigquery://file-project"


def test_bigquery_without_a_key_leaves_the_credentials_to_application_default_credentials():
    conn = connection("google_cloud_platform", extra={"project": "adc-project"})
    warehouse = warehouse_from_connection(conn)
    destination = warehouse.destination()
    credentials = destination.config_params["credentials"]

    assert credentials.project_id == "adc-project"
    assert not credentials.is_resolved()  # dlt looks up the default credentials when it connects
    assert destination.config_params["project_id"] == "adc-project"
    assert warehouse.location == "bigquery://adc-project"


def test_bigquery_key_without_project_takes_the_connections_project():
    conn = connection("google_cloud_platform", extra={"keyfile_dict": service_account(project_id=None), "project": "p2"})
    credentials = warehouse_from_connection(conn).destination().config_params["credentials"]
    assert credentials.project_id == "p2"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "has no project: set extra 'project', and extra 'key_path' or 'keyfile_dict'"),
        ({"keyfile_dict": service_account(client_email=None)}, "has no 'client_email' in its service-account key"),
        ({"keyfile_dict": service_account(private_key=None)}, "has no 'private_key' in its service-account key"),
        (
            {"keyfile_dict": service_account(project_id=None)},
            "has no 'project_id' in its service-account key (or set extra 'project')",
        ),
        ({"keyfile_dict": {"type": "authorized_user", "refresh_token": "r"}}, "must be a service-account key"),
        ({"keyfile_dict": "{not json", "project": "p"}, "is not valid JSON"),
        ({"keyfile_dict": service_account(), "key_path": "/sa.json"}, "sets both extra 'key_path' and 'keyfile_dict'"),
        ({"key_path": "/keys/sa.p12"}, "must name a JSON service-account key file"),
        ({"key_path": "/nonexistent/sa.json"}, "cannot read the key file in extra 'key_path' (/nonexistent/sa.json)"),
    ],
)
def test_bigquery_errors_name_the_connection_and_the_field(extra, message):
    conn = connection("google_cloud_platform", conn_id="gcp_wh", extra=extra)
    with pytest.raises(WarehouseConfigError, match=r"'gcp_wh' \(google_cloud_platform\)") as error:
        warehouse_from_connection(conn)
    assert message in str(error.value)
    assert "not-a-real-key" not in str(error.value)


def test_bigquery_invalid_json_error_does_not_quote_the_key():
    conn = connection("google_cloud_platform", extra={"keyfile_dict": '{"private_key": "super-secret-material",'})
    with pytest.raises(WarehouseConfigError) as error:
        warehouse_from_connection(conn)
    assert "super-secret-material" not in str(error.value)


# --- redshift ----------------------------------------------------------------------------------


def test_redshift_maps_host_port_login_password_and_schema_as_database():
    conn = connection(
        "redshift", host="cluster.abc.redshift.amazonaws.com", login="loader", password=RS_PASSWORD, schema="dev",
        extra={"connect_timeout": 7},
    )
    warehouse = warehouse_from_connection(conn)
    credentials = warehouse.destination().config_params["credentials"]

    assert (credentials.host, credentials.port, credentials.username, credentials.password, credentials.database) == (
        "cluster.abc.redshift.amazonaws.com",
        5439,
        "loader",
        RS_PASSWORD,
        "dev",
    )
    assert credentials.connect_timeout == 7
    assert warehouse.location == "redshift://cluster.abc.redshift.amazonaws.com:5439/dev"


def test_redshift_keeps_an_explicit_port():
    conn = connection("redshift", host="h", port=5440, login="u", password="p", schema="db")
    assert warehouse_from_connection(conn).destination().config_params["credentials"].port == 5440


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"login": "u", "password": "p", "schema": "d"}, "has no host"),
        ({"host": "h", "password": "p", "schema": "d"}, "has no user: set login"),
        ({"host": "h", "login": "u", "schema": "d"}, "has no password: set password"),
        ({"host": "h", "login": "u", "password": "p"}, "has no database: set schema to the database name"),
        ({"host": "h", "login": "u", "password": "p", "schema": "d", "extra": {"iam": True}}, "IAM authentication"),
    ],
)
def test_redshift_errors_name_the_connection_and_the_field(fields, message):
    conn = connection("redshift", conn_id="rs_wh", **fields)
    with pytest.raises(WarehouseConfigError, match=r"'rs_wh' \(redshift\)") as error:
        warehouse_from_connection(conn)
    assert message in str(error.value)


# --- mssql -------------------------------------------------------------------------------------


def test_mssql_maps_the_connection_and_odbc_options_into_the_dsn():
    conn = connection(
        "mssql",
        host="sql.internal",
        login="loader",
        password=MS_PASSWORD,
        schema="Analytics",
        extra={
            "driver": ODBC_18,
            "TrustServerCertificate": "yes",
            "Encrypt": "yes",
            "connect_timeout": 5,
            "unrelated": "x",
        },
    )
    warehouse = warehouse_from_connection(conn)
    credentials = warehouse.destination().config_params["credentials"]

    assert (credentials.host, credentials.port, credentials.username, credentials.password) == (
        "sql.internal",
        1433,
        "loader",
        MS_PASSWORD,
    )
    assert credentials.database == "analytics"  # dlt lower-cases the database name
    assert (credentials.driver, credentials.connect_timeout) == (ODBC_18, 5)
    dsn = credentials.to_odbc_dsn()
    assert f"DRIVER={ODBC_18}" in dsn and "SERVER=sql.internal,1433" in dsn
    assert "TRUSTSERVERCERTIFICATE=yes" in dsn and "ENCRYPT=yes" in dsn and "UNRELATED" not in dsn
    assert warehouse.location == "mssql://sql.internal:1433/analytics"


def test_mssql_without_driver_and_without_pyodbc_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyodbc", None)  # import pyodbc raises ImportError
    conn = connection("mssql", conn_id="ms_wh", host="h", login="u", password="p", schema="d")
    with pytest.raises(WarehouseConfigError, match=r"'ms_wh' \(mssql\)") as error:
        warehouse_from_connection(conn)
    assert 'pip install "dlt[mssql]"' in str(error.value)


def test_mssql_without_driver_picks_the_newest_installed_supported_driver(monkeypatch):
    fake = types.ModuleType("pyodbc")
    fake.drivers = lambda: ["FreeTDS", "ODBC Driver 17 for SQL Server", ODBC_18]
    monkeypatch.setitem(sys.modules, "pyodbc", fake)
    conn = connection("mssql", host="h", login="u", password="p", schema="d")
    assert warehouse_from_connection(conn).destination().config_params["credentials"].driver == ODBC_18

    fake.drivers = lambda: ["FreeTDS"]
    with pytest.raises(WarehouseConfigError, match="found no supported ODBC driver"):
        warehouse_from_connection(conn)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"login": "u", "password": "p", "schema": "d"}, "has no host"),
        ({"host": "h", "password": "p", "schema": "d"}, "has no user: set login"),
        ({"host": "h", "login": "u", "schema": "d"}, "has no password"),
        ({"host": "h", "login": "u", "password": "p"}, "has no database: set schema"),
        (
            {"host": "h", "login": "u", "password": "p", "schema": "d", "extra": {"driver": "FreeTDS"}},
            "names ODBC driver 'FreeTDS'",
        ),
    ],
)
def test_mssql_errors_name_the_connection_and_the_field(fields, message):
    fields.setdefault("extra", {"driver": ODBC_18})
    conn = connection("mssql", conn_id="ms_wh", **fields)
    with pytest.raises(WarehouseConfigError, match=r"'ms_wh' \(mssql\)") as error:
        warehouse_from_connection(conn)
    assert message in str(error.value)


# --- databricks --------------------------------------------------------------------------------


def test_databricks_strips_the_workspace_url_to_the_hostname():
    conn = connection(
        "databricks",
        host="https://adb-123.4.azuredatabricks.net/",
        password=DBX_TOKEN,
        extra={"http_path": "/sql/1.0/warehouses/abc", "catalog": "main"},
    )
    warehouse = warehouse_from_connection(conn)
    credentials = warehouse.destination().config_params["credentials"]

    assert credentials.server_hostname == "adb-123.4.azuredatabricks.net"
    assert (credentials.http_path, credentials.catalog) == ("/sql/1.0/warehouses/abc", "main")
    assert credentials.access_token == DBX_TOKEN
    params = credentials.to_connector_params()
    assert params["access_token"] == DBX_TOKEN and params["server_hostname"] == "adb-123.4.azuredatabricks.net"
    assert warehouse.location == "databricks://adb-123.4.azuredatabricks.net/main"


def test_databricks_reads_a_token_from_extra_when_the_password_is_empty():
    extra = {"token": DBX_TOKEN, "http_path": "/p", "catalog": "c"}
    conn = connection("databricks", host="h.cloud.databricks.com", extra=extra)
    warehouse = warehouse_from_connection(conn)
    assert warehouse.destination().config_params["credentials"].access_token == DBX_TOKEN
    assert_secret_free(warehouse, DBX_TOKEN)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "t", "extra": {"http_path": "/p", "catalog": "c"}}, "has no server hostname: set host"),
        ({"host": "h", "extra": {"http_path": "/p", "catalog": "c"}}, "has no access token: set password"),
        ({"host": "h", "password": "t", "extra": {"catalog": "c"}}, "has no HTTP path: set extra 'http_path'"),
        ({"host": "h", "password": "t", "extra": {"http_path": "/p"}}, "has no catalog: set extra 'catalog'"),
    ],
)
def test_databricks_errors_name_the_connection_and_the_field(fields, message):
    conn = connection("databricks", conn_id="dbx_wh", **fields)
    with pytest.raises(WarehouseConfigError, match=r"'dbx_wh' \(databricks\)") as error:
        warehouse_from_connection(conn)
    assert message in str(error.value)


# --- motherduck --------------------------------------------------------------------------------


def test_motherduck_connection_takes_the_database_from_schema_and_the_token_from_password():
    warehouse = warehouse_from_connection(connection("motherduck", schema="analytics", password=MD_TOKEN))
    credentials = warehouse.destination().config_params["credentials"]
    assert (credentials.database, credentials.password) == ("analytics", MD_TOKEN)
    assert warehouse.location == "motherduck://analytics"


def test_motherduck_connection_accepts_the_database_in_host():
    warehouse = warehouse_from_connection(connection("motherduck", host="md:lake", password=MD_TOKEN))
    assert warehouse.destination().config_params["credentials"].database == "lake"


def test_duckdb_connection_with_an_md_host_goes_to_motherduck_and_hides_a_token_in_the_host():
    conn = connection("duckdb", host=f"md:analytics?motherduck_token={MD_TOKEN}&attach_mode=single")
    warehouse = warehouse_from_connection(conn)
    credentials = warehouse.destination().config_params["credentials"]

    assert warehouse.kind == "motherduck" and warehouse.destination().destination_name == "motherduck"
    assert (credentials.database, credentials.password) == ("analytics", MD_TOKEN)
    assert credentials.query == {"attach_mode": "single"}
    assert warehouse.location == "motherduck://analytics"
    assert_secret_free(warehouse, MD_TOKEN)


def test_duckdb_connection_with_a_file_path_is_still_a_local_duckdb_file(tmp_path):
    warehouse = warehouse_from_connection(connection("duckdb", host=str(tmp_path / "wh.duckdb")))
    assert (warehouse.kind, warehouse.location) == ("duckdb", str(tmp_path / "wh.duckdb"))


def test_motherduck_without_a_token_uses_the_environment_variable(monkeypatch):
    monkeypatch.delenv("motherduck_token", raising=False)
    monkeypatch.setenv("MOTHERDUCK_TOKEN", MD_TOKEN)
    warehouse = warehouse_from_connection(connection("duckdb", host="md:analytics"))
    assert warehouse.destination().config_params["credentials"].password is None


@pytest.mark.parametrize(
    ("conn_type", "fields", "message"),
    [
        ("motherduck", {"schema": "analytics"}, "has no token: set password"),
        ("duckdb", {"host": "md:analytics"}, "has no token: set password"),
        ("motherduck", {"password": MD_TOKEN}, "has no database: set schema (or host)"),
        ("duckdb", {"host": "md:", "password": MD_TOKEN}, "has no database"),
    ],
)
def test_motherduck_errors_name_the_connection_and_the_field(monkeypatch, conn_type, fields, message):
    monkeypatch.delenv("motherduck_token", raising=False)
    monkeypatch.delenv("MOTHERDUCK_TOKEN", raising=False)
    conn = connection(conn_type, conn_id="md_wh", **fields)
    with pytest.raises(WarehouseConfigError, match=r"'md_wh' \(motherduck\)") as error:
        warehouse_from_connection(conn)
    assert message in str(error.value)


# --- lookup ------------------------------------------------------------------------------------


def test_resolve_warehouse_reads_a_cloud_connection_through_airflow(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_SF",
        json.dumps(
            {
                "conn_type": "snowflake",
                "login": "LOADER",
                "password": SF_PASSWORD,
                "extra": {"account": "xy12345", "database": "RAW"},
            }
        ),
    )
    warehouse = resolve_warehouse("warehouse_sf")
    assert (warehouse.kind, warehouse.location) == ("snowflake", "snowflake://xy12345/RAW")
    assert warehouse.destination().config_params["credentials"].password == SF_PASSWORD


def test_unsupported_type_lists_the_cloud_types():
    with pytest.raises(WarehouseConfigError, match="cannot write to") as error:
        warehouse_from_connection(connection("oracle", conn_id="ora"))
    for conn_type in ("databricks", "google_cloud_platform", "motherduck", "mssql", "redshift", "snowflake"):
        assert conn_type in str(error.value)


def test_duckdb_caps_its_memory_by_default_and_the_connection_can_change_it(tmp_path):
    from airflow.sdk import Connection

    from airflow_provider_analytics.warehouses import warehouse_from_connection
    from airflow_provider_analytics.warehouses.duckdb import DUCKDB_MEMORY_LIMIT

    def limit(extra: dict) -> object:
        conn = Connection(conn_id="wh", conn_type="duckdb", host=str(tmp_path / "w.duckdb"), extra=json.dumps(extra))
        credentials = warehouse_from_connection(conn).destination().config_params["credentials"]
        return (credentials.global_config or {}).get("memory_limit")

    assert limit({}) == DUCKDB_MEMORY_LIMIT == "128MB"
    assert limit({"memory_limit": "2GB"}) == "2GB"
    assert limit({"memory_limit": ""}) is None  # DuckDB's own default

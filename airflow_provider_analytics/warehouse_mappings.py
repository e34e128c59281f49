"""Cloud warehouse mappings: one small function per Airflow connection type -> dlt destination.

Each mapping reads the connection the way that type's Airflow provider does, fills the dlt
credentials object completely and resolves it, so dlt uses exactly what the connection says
and does not go looking for missing values in environment variables or `secrets.toml`. The
drivers (snowflake-connector-python, google-cloud-bigquery, pyodbc, databricks-sql-connector)
are imported by dlt only when it connects, so a mapping can be built, and tested, without them.

Importing this module registers the mappings in `warehouse.WAREHOUSE_MAPPINGS`; `warehouse`
imports it, so callers never need to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from airflow_provider_analytics.warehouse import WAREHOUSE_MAPPINGS, Warehouse, WarehouseConfigError

MOTHERDUCK_PREFIX = "md:"


def _extra(conn: Any) -> dict[str, Any]:
    return dict(conn.extra_dejson or {})


def _field(extra: Mapping[str, Any], name: str, prefix: str | None = None) -> Any:
    """An extra field, also under Airflow's old `extra__<type>__<name>` key; blank counts as unset."""
    value = extra.get(name)
    if value in (None, "") and prefix:
        value = extra.get(f"extra__{prefix}__{name}")
    return None if value == "" else value


def _missing(conn: Any, kind: str, what: str) -> WarehouseConfigError:
    return WarehouseConfigError(f"Warehouse connection '{conn.conn_id}' ({kind}) has no {what}.")


def _needs_extra(conn: Any, kind: str, extra: str, what: str) -> WarehouseConfigError:
    return WarehouseConfigError(
        f"Warehouse connection '{conn.conn_id}' ({kind}) needs {what}, which dlt loads through "
        f'extra packages: pip install "dlt[{extra}]".'
    )


def _resolved(credentials: Any, conn: Any, kind: str) -> Any:
    """Mark complete credentials as resolved, turning dlt's own checks into a WarehouseConfigError."""
    from dlt.common.exceptions import DltException

    try:
        return credentials.resolve()
    except (DltException, ValueError) as exc:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' ({kind}) was rejected by dlt: {exc}"
        ) from exc


def _check_private_key(conn: Any, private_key: str, passphrase: str | None) -> None:
    """Decode the key now, so a wrong passphrase fails here and not at the first load."""
    from dlt.common.libs.cryptography import decode_private_key

    try:
        decode_private_key(private_key, passphrase)
    except Exception:
        # the cause is not chained: it could carry key material
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (snowflake) has a private key that cannot be read: "
            "it must be PEM (or base64 PEM/DER), and an encrypted key needs its passphrase in password."
        ) from None


def snowflake_from_connection(conn: Any) -> Warehouse:
    """Airflow's `snowflake` connection: login/password, or a key pair whose passphrase is the password.

    As in the Snowflake hook, a private key (`private_key_file` or `private_key_content`) turns
    the password field into the key's passphrase, and `region` is appended to the account.
    """
    import dlt
    from dlt.destinations.impl.snowflake.configuration import SnowflakeCredentials

    kind = "snowflake"
    extra = _extra(conn)
    account = _field(extra, "account", kind)
    region = _field(extra, "region", kind)
    database = _field(extra, "database", kind)
    authenticator = extra.get("authenticator") or None
    key_file = _field(extra, "private_key_file", kind)
    key_content = _field(extra, "private_key_content", kind)
    if not account:
        raise _missing(conn, kind, "account: set extra 'account' (the account identifier)")
    if not database:
        raise _missing(conn, kind, "database: set extra 'database'")
    if not conn.login:
        raise _missing(conn, kind, "user: set login")
    if authenticator == "oauth" or _field(extra, "refresh_token", kind):
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (snowflake) uses OAuth, which this provider does "
            "not map to dlt: use a password or a key pair (extra 'private_key_file' or "
            "'private_key_content')."
        )
    if key_file and key_content:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (snowflake) sets both extra 'private_key_file' and "
            "'private_key_content': keep one."
        )
    password_auth = not (key_file or key_content) and authenticator in (None, "snowflake")
    if password_auth and not conn.password:
        raise _missing(
            conn, kind, "password: set password, or a key pair in extra 'private_key_file' or 'private_key_content'"
        )
    if region and region not in account:
        account = f"{account}.{region}"

    credentials = SnowflakeCredentials()
    credentials.host = account
    credentials.database = database
    credentials.username = conn.login
    credentials.warehouse = _field(extra, "warehouse", kind)
    credentials.role = _field(extra, "role", kind)
    credentials.authenticator = authenticator
    if key_file or key_content:
        credentials.private_key_path = key_file  # dlt reads the file when the credentials resolve
        credentials.private_key = key_content
        credentials.private_key_passphrase = (conn.password or "").strip() or None
    else:
        credentials.password = conn.password or None
    _resolved(credentials, conn, kind)
    if credentials.private_key:
        _check_private_key(conn, credentials.private_key, credentials.private_key_passphrase)
    location = f"snowflake://{account}/{database}"
    return Warehouse(partial(dlt.destinations.snowflake, credentials=credentials), kind, location)


def _service_account_info(conn: Any, extra: Mapping[str, Any]) -> dict[str, Any] | None:
    """The service-account key from extra `keyfile_dict` or the file at `key_path`; None for neither."""
    prefix = "google_cloud_platform"
    keyfile = _field(extra, "keyfile_dict", prefix)
    key_path = _field(extra, "key_path", prefix)
    if keyfile and key_path:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (google_cloud_platform) sets both extra 'key_path' "
            "and 'keyfile_dict': keep one."
        )
    if key_path:
        if not str(key_path).endswith(".json"):
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): extra 'key_path' must name "
                "a JSON service-account key file."
            )
        try:
            keyfile = Path(key_path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): cannot read the key file "
                f"in extra 'key_path' ({key_path}): {exc.strerror}."
            ) from None
    if keyfile is None:
        return None
    if isinstance(keyfile, str):
        try:
            keyfile = json.loads(keyfile)
        except ValueError:
            # the message must not quote the key: it holds a private key
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): the service-account key "
                "is not valid JSON."
            ) from None
    if not isinstance(keyfile, dict) or keyfile.get("type", "service_account") != "service_account":
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): the key must be a "
            "service-account key (\"type\": \"service_account\")."
        )
    return keyfile


def bigquery_from_connection(conn: Any) -> Warehouse:
    """Airflow's `google_cloud_platform` connection -> dlt BigQuery.

    With a service-account key (extra `keyfile_dict` or `key_path`) the credentials are complete.
    Without one, as in Airflow, the worker's Application Default Credentials are used: dlt looks
    them up when it connects, and extra `project` must then name the project.
    """
    import dlt
    from dlt.common.configuration.specs import GcpServiceAccountCredentials

    kind = "bigquery"
    extra = _extra(conn)
    project = _field(extra, "project", "google_cloud_platform")
    location = _field(extra, "location", "google_cloud_platform")
    info = _service_account_info(conn, extra)

    credentials = GcpServiceAccountCredentials()
    if info is None:
        if not project:
            raise _missing(
                conn,
                "google_cloud_platform",
                "project: set extra 'project', and extra 'key_path' or 'keyfile_dict' unless the worker "
                "has Application Default Credentials",
            )
        credentials.project_id = project  # left unresolved: dlt finds the default credentials
    else:
        credentials.project_id = info.get("project_id") or project
        credentials.private_key = info.get("private_key")
        credentials.private_key_id = info.get("private_key_id")
        credentials.client_email = info.get("client_email")
        for field in ("client_email", "private_key", "project_id"):
            if not getattr(credentials, field):
                hint = " (or set extra 'project')" if field == "project_id" else ""
                raise _missing(conn, "google_cloud_platform", f"'{field}' in its service-account key{hint}")
        _resolved(credentials, conn, "google_cloud_platform")
    options: dict[str, Any] = {"credentials": credentials}
    if project:
        options["project_id"] = project  # the project jobs run in; the key may belong to another
    if location:
        options["location"] = location
    return Warehouse(
        partial(dlt.destinations.bigquery, **options), kind, f"bigquery://{project or credentials.project_id}"
    )


def _server_credentials(credentials: Any, conn: Any, kind: str, default_port: int, host_hint: str = "host") -> Any:
    """Fill the fields every database-server connection has: host, port, login, password, schema = database."""
    for value, what in (
        (conn.host, f"host: set {host_hint}"),
        (conn.login, "user: set login"),
        (conn.password, "password: set password"),
        (conn.schema, "database: set schema to the database name"),
    ):
        if not value:
            raise _missing(conn, kind, what)
    credentials.host = conn.host
    credentials.port = int(conn.port or default_port)
    credentials.username = conn.login
    credentials.password = conn.password
    credentials.database = conn.schema
    connect_timeout = _extra(conn).get("connect_timeout")
    if connect_timeout:
        credentials.connect_timeout = int(connect_timeout)
    return credentials


def redshift_from_connection(conn: Any) -> Warehouse:
    """Airflow's `redshift` connection: host, port (5439), login, password, schema = database."""
    import dlt
    from dlt.destinations.impl.redshift.configuration import RedshiftCredentials

    kind = "redshift"
    extra = _extra(conn)
    if str(extra.get("iam", "")).lower() in ("true", "1"):
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (redshift) uses IAM authentication, which dlt does "
            "not support: set login and password."
        )
    credentials = _server_credentials(RedshiftCredentials(), conn, kind, 5439, "host to the cluster endpoint")
    _resolved(credentials, conn, kind)
    location = f"redshift://{credentials.host}:{credentials.port}/{credentials.database}"
    return Warehouse(partial(dlt.destinations.redshift, credentials=credentials), kind, location)


MSSQL_ODBC_EXTRAS = ("encrypt", "trustservercertificate")


def _mssql_driver(conn: Any, extra: Mapping[str, Any]) -> str:
    """Extra `driver`, else the newest supported ODBC driver installed (the choice dlt makes)."""
    from dlt.destinations.impl.mssql.configuration import MsSqlCredentials

    supported = MsSqlCredentials.SUPPORTED_DRIVERS
    driver = extra.get("driver") or None
    if driver is None:
        try:
            import pyodbc
        except ImportError:
            raise _needs_extra(conn, "mssql", "mssql", "pyodbc to find its ODBC driver") from None
        driver = next((name for name in supported if name in pyodbc.drivers()), None)
        if driver is None:
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (mssql) found no supported ODBC driver: install "
                f"'{supported[0]}' or set extra 'driver'."
            )
    if driver not in supported:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (mssql) names ODBC driver '{driver}' in extra 'driver'; "
            f"dlt supports: {', '.join(supported)}."
        )
    return driver


def mssql_from_connection(conn: Any) -> Warehouse:
    """Airflow's `mssql` connection: host, port (1433), login, password, schema = database, extra driver."""
    import dlt
    from dlt.destinations.impl.mssql.configuration import MsSqlCredentials

    kind = "mssql"
    extra = _extra(conn)
    credentials = _server_credentials(MsSqlCredentials(), conn, kind, 1433)
    credentials.driver = _mssql_driver(conn, extra)
    odbc = {key: str(value) for key, value in extra.items() if key.lower() in MSSQL_ODBC_EXTRAS}
    if odbc:
        credentials.query = odbc  # dlt appends these to the ODBC connection string
    _resolved(credentials, conn, kind)
    location = f"mssql://{credentials.host}:{credentials.port}/{credentials.database}"
    return Warehouse(partial(dlt.destinations.mssql, credentials=credentials), kind, location)


def databricks_from_connection(conn: Any) -> Warehouse:
    """Airflow's `databricks` connection: host, personal access token, extra http_path and catalog."""
    import dlt
    from dlt.destinations.impl.databricks.configuration import DatabricksCredentials

    kind = "databricks"
    extra = _extra(conn)
    host = conn.host or ""
    if "://" in host:  # Airflow accepts the workspace URL; dlt wants the bare hostname
        host = urlparse(host).netloc
    host = host.rstrip("/")
    token = conn.password or extra.get("token")
    http_path = extra.get("http_path")
    catalog = extra.get("catalog")
    for value, what in (
        (host, "server hostname: set host to the workspace hostname"),
        (token, "access token: set password to a personal access token"),
        (http_path, "HTTP path: set extra 'http_path' to the SQL warehouse or cluster HTTP path"),
        (catalog, "catalog: set extra 'catalog'"),
    ):
        if not value:
            raise _missing(conn, kind, what)
    credentials = DatabricksCredentials()
    credentials.server_hostname = host
    credentials.http_path = http_path
    credentials.catalog = catalog
    credentials.access_token = token
    _resolved(credentials, conn, kind)
    location = f"databricks://{host}/{catalog}"
    return Warehouse(partial(dlt.destinations.databricks, credentials=credentials), kind, location)


def _motherduck_target(text: str) -> tuple[str, dict[str, str]]:
    """`md:<database>?<params>` or `<database>` -> (database, params)."""
    text = text.strip()
    if text.startswith(MOTHERDUCK_PREFIX):
        text = text[len(MOTHERDUCK_PREFIX) :].lstrip("/")
    database, _, query = text.partition("?")
    return database, dict(parse_qsl(query))


def motherduck_from_connection(conn: Any) -> Warehouse:
    """A `motherduck` connection (password = token, schema or host = database), or `duckdb` with host `md:<db>`.

    A token in the host's query string (`md:db?motherduck_token=...`) is accepted and kept out of
    the location. Without a token, the motherduck_token environment variable is used.
    """
    import os

    import dlt
    from dlt.destinations.impl.motherduck.configuration import (
        MOTHERDUCK_DEFAULT_TOKEN_ENV,
        MotherDuckCredentials,
    )

    kind = "motherduck"
    database, params = _motherduck_target(conn.host or "")
    if (conn.conn_type or "").lower() == "motherduck" and conn.schema:
        database = conn.schema
    query_token = params.pop("motherduck_token", None) or None
    legacy_token = params.pop("token", None) or None
    token = conn.password or query_token or legacy_token
    if not database:
        raise _missing(conn, kind, "database: set schema (or host) to the MotherDuck database name")
    env_token = os.environ.get(MOTHERDUCK_DEFAULT_TOKEN_ENV) or os.environ.get(MOTHERDUCK_DEFAULT_TOKEN_ENV.upper())
    if not token and not env_token:
        raise _missing(conn, kind, "token: set password to a MotherDuck token (or export motherduck_token)")
    credentials = MotherDuckCredentials()
    credentials.database = database
    credentials.password = token or None
    if params:
        credentials.query = params
    _resolved(credentials, conn, kind)
    return Warehouse(partial(dlt.destinations.motherduck, credentials=credentials), kind, f"motherduck://{database}")


CLOUD_MAPPINGS: dict[str, Callable[[Any], Warehouse]] = {
    "snowflake": snowflake_from_connection,
    "google_cloud_platform": bigquery_from_connection,
    "redshift": redshift_from_connection,
    "mssql": mssql_from_connection,
    "databricks": databricks_from_connection,
    "motherduck": motherduck_from_connection,
}

WAREHOUSE_MAPPINGS.update(CLOUD_MAPPINGS)

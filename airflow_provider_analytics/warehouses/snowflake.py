"""Snowflake: Airflow's `snowflake` connection as a dlt destination, read the way the Snowflake hook reads it.

snowflake-connector-python is imported by dlt only when it connects, so the mapping runs without it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import WarehouseConfigError, missing, remote_warehouse, resolved


def snowflake_lineage(account: str, database: str, dataset: str, table: str) -> tuple[str, str]:
    """`snowflake://{account}` (OpenLineage's normal form of the account), `DATABASE.SCHEMA.TABLE`.

    Upper case, as Snowflake stores the unquoted names dlt writes and as Airflow's Snowflake
    provider reports them. Imports OpenLineage's account rule, so it runs only when lineage is emitted.
    """
    from openlineage.common.provider.snowflake import fix_account_name

    return f"snowflake://{fix_account_name(account)}", f"{database}.{dataset}.{table}".upper()


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
    extras = conn.extra_dejson or {}
    account = extra_field(extras, "account", kind)
    region = extra_field(extras, "region", kind)
    database = extra_field(extras, "database", kind)
    authenticator = extra_field(extras, "authenticator")
    key_file = extra_field(extras, "private_key_file", kind)
    key_content = extra_field(extras, "private_key_content", kind)
    if not account:
        raise missing(conn, kind, "account: set extra 'account' (the account identifier)")
    if not database:
        raise missing(conn, kind, "database: set extra 'database'")
    if not conn.login:
        raise missing(conn, kind, "user: set login")
    if authenticator == "oauth" or extra_field(extras, "refresh_token", kind):
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
        raise missing(
            conn, kind, "password: set password, or a key pair in extra 'private_key_file' or 'private_key_content'"
        )
    if region and region not in account:
        account = f"{account}.{region}"

    credentials = SnowflakeCredentials()
    credentials.host = account
    credentials.database = database
    credentials.username = conn.login
    credentials.warehouse = extra_field(extras, "warehouse", kind)
    credentials.role = extra_field(extras, "role", kind)
    credentials.authenticator = authenticator
    if key_file or key_content:
        credentials.private_key_path = key_file  # dlt reads the file when the credentials resolve
        credentials.private_key = key_content
        credentials.private_key_passphrase = (conn.password or "").strip() or None
    else:
        credentials.password = conn.password or None
    resolved(credentials, conn, kind)
    if credentials.private_key:
        _check_private_key(conn, credentials.private_key, credentials.private_key_passphrase)
    location = f"snowflake://{account}/{database}"
    return remote_warehouse(partial(dlt.destinations.snowflake, credentials=credentials), kind, location,
                            lineage=partial(snowflake_lineage, account, database))

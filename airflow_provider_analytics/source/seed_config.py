"""Seed-style configs (Airbyte-flavoured dlt REST API configs) -> a validated plan for one resource.

Plain dlt rejects the seed's `cursor` paginator templates and its `error_handler`; this module
translates them into paginator instances and a retry policy, fills what the config leaves out
from the connection, and reports every problem before a request is sent, naming the key and
the resource. The caller's dict is never changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, cast

from .catalog import CATALOG
from .errors import ConfigError, TemplateRenderError, UnknownResourceError
from .http.page_check import PageCheck
from .http.retry import RetryPolicy
from .paging.cap_walks import WindowWalk
from .paging.guards import PaginationGuards
from .paging.template_cursor import TemplateCursorPaginator
from .paging.two_ended import TwoEndedWalk
from .schema_hints import column_hints_if_known
from .settings import ApiSettings, has_credentials

if TYPE_CHECKING:
    import requests
    from dlt.sources.rest_api.typing import RESTAPIConfig

__all__ = ["ConfigError", "SeedPlan", "page_check_for", "plan_seed_resource", "secret_values"]

TOP_LEVEL_KEYS = frozenset({"client", "resource_defaults", "resources"})
TEMPLATE_PAGINATOR_KEYS = frozenset({"type", "cursor_value", "stop_condition"})
MERGE_DEFAULTS = {"primary_key": "id", "write_disposition": "merge"}
#: api_key auth locations that put the key in the request URL, which servers, proxies and HTTP
#: debug logs (urllib3) record: refused, so the key only ever travels in a header.
URL_KEY_LOCATIONS = frozenset({"query", "param"})
#: Auth-object attributes that hold a secret (dlt's APIKeyAuth, BearerTokenAuth, HttpBasicAuth, OAuth2).
SECRET_AUTH_ATTRIBUTES = ("api_key", "token", "access_token", "password", "client_secret")
#: Secrets shorter than this are not redacted from messages (as Airflow's masker, which skips them too).
MIN_REDACTED_LENGTH = 5


@dataclass(frozen=True)
class SeedPlan:
    """One resource of a seed-style config, translated and validated: what dlt's REST API source runs.

    :param rest_config: the dlt REST API config (paginator instances in place of templates, the
        connection's base URL, auth and page size filled in); holds secrets, so it is not shown.
    :param snapshot: a built-in resource that is read whole (rows gone upstream can be detected).
    """

    resource: str
    base_url: str
    retry_policy: RetryPolicy
    page_check: PageCheck
    columns: Mapping[str, dict[str, Any]]
    snapshot: bool
    rest_config: Mapping[str, Any] = field(repr=False)

    #: A seed config is read as it says: never by a stored cursor.
    incremental = False

    def dlt_config(self, session: requests.Session) -> RESTAPIConfig:
        """The dlt config to run, with `session` as the client's HTTP session (the plan stays as it is)."""
        config = dict(self.rest_config)
        config["client"] = {**config["client"], "session": session}
        return cast("RESTAPIConfig", config)  # checked with dlt's validate_dict when the plan was made


def plan_seed_resource(
    resource: str, api: ApiSettings, config: Any, guards: PaginationGuards, default_policy: RetryPolicy
) -> SeedPlan:
    """The resource named `resource` of a seed-style `config`; what the config leaves out comes from `api`.

    What the config states wins. Raises ConfigError, before any request, naming the key and the
    resource; the message never quotes a secret.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"config must be a dict with client/resource_defaults/resources, not {type(config).__name__}.")
    unknown = sorted(set(config) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"config has unknown top-level key(s) {', '.join(map(repr, unknown))} "
            f"(allowed: {', '.join(sorted(TOP_LEVEL_KEYS))})."
        )
    config = _copy_config(config)
    client = _client_section(config.get("client"), api)
    base_url = client["base_url"]
    if has_credentials(base_url):
        raise ConfigError(
            f"Resource {resource!r}: config.client.base_url carries credentials (user:password@): remove them; "
            "the key goes in client.auth or the connection's password field, and the base URL appears in task logs."
        )

    defaults = config.get("resource_defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError("config.resource_defaults must be a dict.")
    defaults = {**MERGE_DEFAULTS, **defaults}

    resources = config.get("resources")
    if not isinstance(resources, list) or not resources:
        raise ConfigError("config.resources must be a non-empty list of resources.")
    names = [_resource_name(entry, index) for index, entry in enumerate(resources)]
    if resource not in names:
        raise UnknownResourceError(f"Resource {resource!r} is not in config.resources (it defines: {', '.join(names)}).")

    policies: dict[str, RetryPolicy] = {}
    default_handler = _pop_error_handler(defaults.get("endpoint"), "resource_defaults")
    for name, entry in zip(names, resources):
        if not isinstance(entry, dict):
            continue
        endpoint = entry.get("endpoint")
        where = f"resource {name!r}"
        if isinstance(endpoint, dict):
            handler = _pop_error_handler(endpoint, where) or default_handler
            endpoint["paginator"] = _translate_paginator(endpoint.get("paginator"), where, base_url, guards)
            if endpoint["paginator"] is None:
                del endpoint["paginator"]
            _default_page_size(endpoint, defaults, client, api)
        else:
            handler = default_handler
        policies[name] = _policy(handler, where, default_policy)

    if isinstance(defaults.get("endpoint"), dict) and "paginator" in defaults["endpoint"]:
        defaults["endpoint"]["paginator"] = _translate_paginator(
            defaults["endpoint"]["paginator"], "resource_defaults", base_url, guards
        )
    if "paginator" in client:
        client["paginator"] = _translate_paginator(client["paginator"], "client", base_url, guards)

    rest_config = {"client": client, "resource_defaults": defaults, "resources": resources}
    _refuse_keys_in_urls(rest_config, resource)
    _validate_with_dlt(rest_config, resource, api)
    spec = CATALOG.get(resource)
    return SeedPlan(
        resource=resource,
        base_url=base_url,
        retry_policy=policies.get(resource, default_policy),
        page_check=page_check_for(rest_config, resource),
        columns=column_hints_if_known(resource),
        snapshot=spec is not None and spec.snapshot,
        rest_config=rest_config,
    )


def _copy_config(config: dict[str, Any]) -> dict[str, Any]:
    """Deep-copy plain data so the caller's dict is never changed; objects (auth, paginators) stay shared."""
    def _copy(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _copy(item) for key, item in value.items()}
        if isinstance(value, list):
            return [_copy(item) for item in value]
        return value

    return _copy(config)


def _client_section(client: Any, api: ApiSettings) -> dict[str, Any]:
    if client is None:
        client = {}
    if not isinstance(client, dict):
        raise ConfigError("config.client must be a dict.")
    client.setdefault("base_url", api.base_url)
    if not client["base_url"]:
        client["base_url"] = api.base_url
    auth = client.get("auth")
    if auth is None:
        client["auth"] = api.dlt_auth()
    elif isinstance(auth, dict) and auth.get("type", "api_key") == "api_key" and not auth.get("api_key"):
        # The config states where the key goes but not the key: the connection supplies it.
        client["auth"] = {**auth, "api_key": api.api_key}
    if "error_handler" in client:
        raise ConfigError("config.client.error_handler is not supported: put error_handler in each resource's endpoint.")
    return client


def _resource_name(entry: Any, index: int) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
        return entry["name"]
    raise ConfigError(f"config.resources[{index}] has no 'name'.")


def _pop_error_handler(endpoint: Any, where: str) -> Optional[dict[str, Any]]:
    if not isinstance(endpoint, dict) or "error_handler" not in endpoint:
        return None
    handler = endpoint.pop("error_handler")
    if not isinstance(handler, dict):
        raise ConfigError(f"{where}: endpoint.error_handler must be a dict.")
    return handler


def _policy(handler: Optional[dict[str, Any]], where: str, default: RetryPolicy) -> RetryPolicy:
    """The handler sets what to retry and how often; timeouts and caps it leaves out stay the connection's."""
    if handler is None:
        return default
    try:
        return RetryPolicy.from_error_handler(
            handler,
            max_wait=default.max_wait,
            timeout=default.timeout,
            retry_on_connection_errors=default.retry_on_connection_errors,
        )
    except ValueError as error:
        raise ConfigError(f"{where}: endpoint.error_handler: {error}") from None


def _is_template_cursor(paginator: Any) -> bool:
    return (
        isinstance(paginator, dict)
        and paginator.get("type") == "cursor"
        and ("cursor_value" in paginator or "stop_condition" in paginator)
    )


def _translate_paginator(paginator: Any, where: str, base_url: str, guards: PaginationGuards) -> Any:
    """Airbyte-style `cursor` templates -> TemplateCursorPaginator; dlt's own paginators pass through."""
    if not _is_template_cursor(paginator):
        return paginator
    unknown = sorted(set(paginator) - TEMPLATE_PAGINATOR_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: endpoint.paginator has unknown key(s) {', '.join(map(repr, unknown))} "
            f"(a template cursor paginator takes {', '.join(sorted(TEMPLATE_PAGINATOR_KEYS))})."
        )
    try:
        return TemplateCursorPaginator(
            cursor_value=paginator.get("cursor_value"),
            stop_condition=paginator.get("stop_condition"),
            base_url=base_url,
            guards=guards,
            cap_walks=_cap_walks(guards),
        )
    except (TemplateRenderError, ValueError) as error:
        raise ConfigError(f"{where}: endpoint.paginator: {error}") from None


def _cap_walks(guards: PaginationGuards) -> dict[str, Any]:
    """Where the templates would stop at the API's offset cap, the endpoint's walk goes on.

    Picked per run by the request's path, so a client- or default-level paginator is covered too.
    """
    return {
        spec.path: WindowWalk(spec.window_field, guards.offset_cap, spec.name)
        if spec.window_field
        else TwoEndedWalk(offset_cap=guards.offset_cap, resource=spec.name)
        for spec in CATALOG.values()
        if spec.offset_capped
    }


def _default_page_size(
    endpoint: dict[str, Any], defaults: dict[str, Any], client: dict[str, Any], api: ApiSettings
) -> None:
    """Paginated endpoints without an explicit `limit` use the connection's page size."""
    paginator = endpoint.get("paginator", (defaults.get("endpoint") or {}).get("paginator", client.get("paginator")))
    if paginator is None or paginator == "single_page" or (
        isinstance(paginator, dict) and paginator.get("type") == "single_page"
    ):
        return
    params = endpoint.setdefault("params", {})
    if isinstance(params, dict) and "limit" not in params:
        params["limit"] = api.page_size


def page_check_for(rest_config: dict[str, Any], resource: str) -> PageCheck:
    """The check for `resource` as the config describes it: its data_selector and primary_key."""
    defaults = rest_config.get("resource_defaults") or {}
    entry = next(
        (r for r in rest_config.get("resources", []) if isinstance(r, dict) and r.get("name") == resource), {}
    )
    endpoint = entry["endpoint"] if isinstance(entry.get("endpoint"), dict) else {}
    default_endpoint = defaults["endpoint"] if isinstance(defaults.get("endpoint"), dict) else {}
    selector = (
        endpoint.get("data_selector")
        or default_endpoint.get("data_selector")
        or (rest_config.get("client") or {}).get("data_selector")
    )
    primary_key = entry.get("primary_key", defaults.get("primary_key"))
    return PageCheck(resource, selector, primary_key)


def _refuse_keys_in_urls(rest_config: dict[str, Any], resource: str) -> None:
    """Every api_key auth (client, resource_defaults, each resource) must send the key in a header."""
    sections = [("client", (rest_config.get("client") or {}).get("auth"))]
    defaults_endpoint = (rest_config.get("resource_defaults") or {}).get("endpoint")
    if isinstance(defaults_endpoint, dict):
        sections.append(("resource_defaults", defaults_endpoint.get("auth")))
    for entry in rest_config.get("resources") or []:
        endpoint = entry.get("endpoint") if isinstance(entry, dict) else None
        if isinstance(endpoint, dict):
            sections.append((f"resource {entry.get('name')!r}", endpoint.get("auth")))
    for where, auth in sections:
        location = auth.get("location") if isinstance(auth, dict) else getattr(auth, "location", None)
        if isinstance(location, str) and location.lower() in URL_KEY_LOCATIONS:
            raise ConfigError(
                f"Resource {resource!r}: {where}: auth.location {location!r} puts the API key in the request URL, "
                "which servers, proxies and debug logs record: use location 'header'."
            )


def secret_values(value: Any) -> set[str]:
    """Every secret a config holds: values of sensitive keys (api_key, token, password, ...) at any depth,
    and the secret attributes of auth objects."""
    from dlt.sources.helpers.rest_client.redaction import SENSITIVE_PARAMS
    from requests.auth import AuthBase

    sensitive = {name.lower() for name in SENSITIVE_PARAMS} | {"authorization"}
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            for key, sub in item.items():
                if isinstance(key, str) and key.lower() in sensitive and isinstance(sub, str):
                    found.add(sub)
                walk(sub)
        elif isinstance(item, (list, tuple)):
            for sub in item:
                walk(sub)
        elif isinstance(item, AuthBase):
            values = (getattr(item, name, None) for name in SECRET_AUTH_ATTRIBUTES)
            found.update(value for value in values if isinstance(value, str))

    walk(value)
    return found


def _redacted(text: str, secrets: set[str]) -> str:
    """`text` with every secret (of a maskable length) replaced by ***; longest first, so a secret
    containing another is hidden whole."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(secret, "***")
    return text


def _validate_with_dlt(rest_config: dict[str, Any], resource: str, api: ApiSettings) -> None:
    """Run dlt's own schema check of a REST API config now, so a bad key fails before any request.

    dlt's message quotes the offending section as written: the config's secrets and the
    connection's key are redacted from it.
    """
    from dlt.common.exceptions import DictValidationException
    from dlt.common.validation import validate_dict
    from dlt.sources.rest_api.typing import RESTAPIConfig

    try:
        validate_dict(RESTAPIConfig, copy.copy(rest_config), path=".")
    except DictValidationException as error:
        message = _redacted(str(error), secret_values(rest_config) | {api.api_key, api.auth_value})
    else:
        return
    # Raised outside the except block: dlt's exception, which quotes the secrets, is not even kept as context.
    raise ConfigError(f"Invalid config for resource {resource!r}: {message}")

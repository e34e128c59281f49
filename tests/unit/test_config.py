"""Seed-style config translation: what is translated, what is filled in, what is refused."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.source.catalog import CHILD_RESOURCES, RESOURCE_NAMES
from airflow_provider_analytics.source.errors import ConfigError
from airflow_provider_analytics.source.paging.guards import PaginationGuards
from airflow_provider_analytics.source.plan import ChildPlan, plan_for
from airflow_provider_analytics.source.paging.next_link import NextLinkPaginator
from airflow_provider_analytics.source.paging.template_cursor import TemplateCursorPaginator
from airflow_provider_analytics.source.settings import ApiSettings
from tests.helpers import SEED_DOC, SHARED_SEED_DOC, load_seed_config, seed_error_handler

KEY = "unit-test-key-123456"
API = ApiSettings(base_url="http://127.0.0.1:9", api_key=KEY, page_size=50)


def seed():
    config = load_seed_config("http://127.0.0.1:9", KEY)
    return config


def test_committed_seed_document_matches_the_shared_one():
    if not SHARED_SEED_DOC.exists():
        pytest.skip("no shared/ folder beside the checkout")
    assert SEED_DOC.read_text() == SHARED_SEED_DOC.read_text()


TOP_LEVEL = tuple(name for name in RESOURCE_NAMES if name not in CHILD_RESOURCES)


@pytest.mark.parametrize("resource", TOP_LEVEL)
def test_builtin_resources_have_path_selector_paging_and_merge(resource):
    from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

    plan = plan_for(resource, API)
    key = "name" if resource == "heartbeats" else "id"
    assert plan.resource == resource and plan.page_check.primary_key == key
    assert plan.page_check.data_selector == ("data.heartbeats" if resource == "heartbeats" else "data")
    if resource == "schedules":
        assert plan.params == {"expand": "rotation"}
    if resource in ("teams", "integrations", "schedules", "escalations", "heartbeats"):
        assert isinstance(plan.listing_paginator(), SinglePagePaginator)
    elif resource in ("incidents", "alerts"):
        assert isinstance(plan.keyset_paginator("updatedAt", None), NextLinkPaginator)
        assert plan.params["limit"] == 50
    else:
        assert isinstance(plan.listing_paginator(), NextLinkPaginator)
        assert plan.params["limit"] == 50
    assert plan.base_url == API.base_url and plan.url == API.base_url + plan.spec.path
    table = as_dlt_resource(plan).compute_table_schema()
    assert as_dlt_resource(plan).write_disposition == "merge" and table["columns"][key]["primary_key"]


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_child_resources_read_each_parent_at_its_own_path_with_the_parents_plan(resource):
    from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

    plan = plan_for(resource, API)
    assert isinstance(plan, ChildPlan) and plan.parent.resource == plan.link.resource
    assert plan.url_for("a/b") == API.base_url + plan.spec.path.format(id="a%2Fb")  # an id never leaves its segment
    assert plan.params.get("identifierType") == (None if resource == "user_teams" else "id")  # as the spec declares
    if resource in ("alert_logs", "alert_notes"):
        assert isinstance(plan.paginator(), NextLinkPaginator)
        assert plan.params == {"identifierType": "id", "order": "asc", "direction": "next", "limit": 50}
        assert plan.page_check.primary_key == "offset"
    else:
        assert isinstance(plan.paginator(), SinglePagePaginator)
    if resource == "team_members":
        assert plan.page_check.data_selector == "data.members"
    assert set(plan.spec.primary_key) <= set(plan.columns)


def as_dlt_resource(plan):
    """The dlt resource a sync makes of a plan (nothing is requested until it is read)."""
    import logging

    from airflow_provider_analytics.pipeline.dlt_source import RunSessions, dlt_source
    from airflow_provider_analytics.pipeline.options import SyncOptions
    from airflow_provider_analytics.pipeline.progress import SyncProgress

    progress = SyncProgress(plan.resource, logging.getLogger("test"), 0)
    return dlt_source(plan, RunSessions(plan, progress), progress, SyncOptions()).resources[plan.resource]


def test_builtin_paths():
    paths = {name: plan_for(name, API).spec.path for name in RESOURCE_NAMES}
    assert paths == {
        "users": "/v2/users",
        "teams": "/v2/teams",
        "services": "/v1/services",
        "integrations": "/v2/integrations",
        "incidents": "/v1/incidents",
        "alerts": "/v2/alerts",
        "alert_logs": "/v2/alerts/{id}/logs",
        "alert_notes": "/v2/alerts/{id}/notes",
        "alert_recipients": "/v2/alerts/{id}/recipients",
        "user_teams": "/v2/users/{id}/teams",
        "team_members": "/v2/teams/{id}",
        "schedules": "/v2/schedules",
        "escalations": "/v2/escalations",
        "heartbeats": "/v2/heartbeats",
    }


def test_unknown_builtin_resource_is_refused_with_the_list():
    with pytest.raises(ConfigError, match="maintenance.*users, teams"):
        plan_for("maintenance", API)


def test_seed_paginator_becomes_template_cursor_paginator_and_error_handler_a_retry_policy():
    config = seed()
    config["resources"][5]["endpoint"]["error_handler"] = seed_error_handler()
    plan = plan_for("alerts", API, config, PaginationGuards(max_pages=7))
    alerts = next(r for r in plan.rest_config["resources"] if r["name"] == "alerts")
    paginator = alerts["endpoint"]["paginator"]
    assert isinstance(paginator, TemplateCursorPaginator)
    assert paginator.max_pages == 7
    assert "error_handler" not in alerts["endpoint"]
    assert plan.retry_policy.max_retries == 3
    assert plan.retry_policy.backoff_factor == 2
    assert tuple(plan.retry_policy.retry_on_status_codes) == (429, 500, 502, 503, 504)
    assert alerts["endpoint"]["params"]["limit"] == 50  # page size from the connection
    assert plan.rest_config["resource_defaults"] == {"primary_key": "id", "write_disposition": "merge"}


def test_the_connections_timeout_and_max_retry_wait_bound_every_policy():
    api = ApiSettings(base_url="http://127.0.0.1:9", api_key=KEY, timeout=7.5, max_retry_wait=0.25)
    builtin = plan_for("users", api).retry_policy
    assert (builtin.timeout, builtin.max_wait, builtin.max_retries) == (7.5, 0.25, 4)
    config = seed()
    config["resources"][0]["endpoint"]["error_handler"] = seed_error_handler()
    seeded = plan_for("users", api, config).retry_policy
    assert (seeded.timeout, seeded.max_wait, seeded.max_retries, seeded.backoff_factor) == (7.5, 0.25, 3, 2.0)
    config["resources"][0]["endpoint"]["error_handler"] = {**seed_error_handler(), "max_wait": 3}
    assert plan_for("users", api, config).retry_policy.max_wait == 3.0  # the handler's own cap wins


def test_what_the_config_states_wins_and_what_it_omits_comes_from_the_connection():
    config = seed()
    config["resources"][5]["endpoint"]["params"] = {"limit": 10}
    plan = plan_for("alerts", API, config)
    client = plan.rest_config["client"]
    assert client["base_url"] == "http://127.0.0.1:9"
    assert client["auth"]["name"] == "api_key"  # as written in the seed
    alerts = next(r for r in plan.rest_config["resources"] if r["name"] == "alerts")
    assert alerts["endpoint"]["params"] == {"limit": 10}

    del config["client"]
    plan = plan_for("alerts", API, config)
    assert plan.rest_config["client"]["base_url"] == API.base_url
    assert plan.rest_config["client"]["auth"].name == "Authorization"


def test_caller_config_is_not_modified():
    config = seed()
    config["resources"][0]["endpoint"]["error_handler"] = seed_error_handler()
    before = repr(config)
    plan_for("users", API, config)
    assert repr(config) == before


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c.update(clients={}), "clients"),
        (lambda c: c["resources"][5]["endpoint"]["paginator"].update(cursor_path="x"), "alerts.*cursor_path"),
        (lambda c: c["resources"][5]["endpoint"].update(error_handler={"max_retrys": 3}), "alerts.*max_retrys"),
        (lambda c: c["resources"][5]["endpoint"].update(error_handler={"max_retries": "3"}), "alerts.*max_retries"),
        (lambda c: c["resources"][5]["endpoint"].update(data_selectr="data"), "alerts.*data_selectr"),
        (lambda c: c["resources"][5].update(primary_kee="id"), "alerts.*primary_kee"),
        (lambda c: c["resources"][5]["endpoint"]["paginator"].update(cursor_value="{{ response.get("), "alerts.*cursor_value"),
        (lambda c: c["resources"][5]["endpoint"]["paginator"].update(cursor_value=""), "alerts.*cursor_value"),
    ],
)
def test_invalid_configs_are_refused_naming_key_and_resource(mutate, expected):
    config = seed()
    mutate(config)
    with pytest.raises(ConfigError, match=expected) as caught:
        plan_for("alerts", API, config)
    assert KEY not in str(caught.value)


def test_resource_missing_from_config_lists_what_it_defines():
    with pytest.raises(ConfigError, match="'heartbeats' is not in config.resources.*users, teams"):
        plan_for("heartbeats", API, seed())


def test_dlt_paginators_pass_through_untouched():
    config = seed()
    config["resources"][5]["endpoint"]["paginator"] = {"type": "json_link", "next_url_path": "paging.next"}
    plan = plan_for("alerts", API, config)
    alerts = next(r for r in plan.rest_config["resources"] if r["name"] == "alerts")
    assert alerts["endpoint"]["paginator"] == {"type": "json_link", "next_url_path": "paging.next"}


def _auth_moved(config, where):
    """The client's auth block (key inline) moved to `where`: resource_defaults or the alerts endpoint."""
    auth = config["client"].pop("auth")
    if where == "resource_defaults":
        endpoint = config["resource_defaults"].setdefault("endpoint", {})
    else:
        endpoint = config["resources"][5]["endpoint"]
    endpoint["auth"] = auth
    return endpoint


@pytest.mark.parametrize("where", ["client", "resource_defaults", "resource"])
def test_a_refused_config_never_quotes_the_key_wherever_the_auth_block_sits(where):
    config = seed()
    endpoint = config["client"] if where == "client" else _auth_moved(config, where)
    endpoint["bogus"] = 1  # dlt quotes the whole section in its message
    with pytest.raises(ConfigError, match="bogus") as caught:
        plan_for("alerts", API, config)
    assert KEY not in str(caught.value) and KEY[-8:] not in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None  # dlt's unredacted message is not kept


def test_a_refused_config_never_quotes_the_connection_key_or_a_key_in_headers_or_params():
    config = seed()
    del config["client"]["auth"]["api_key"]  # the connection's key goes into the auth block
    endpoint = config["resources"][5]["endpoint"]
    endpoint.update(headers={"Authorization": f"GenieKey {KEY}"}, params={"apiKey": "params-secret-987"}, bogus=1)
    with pytest.raises(ConfigError, match="bogus") as caught:
        plan_for("alerts", API, config)
    assert KEY not in str(caught.value) and "params-secret-987" not in str(caught.value)


@pytest.mark.parametrize("where", ["client", "resource_defaults", "resource"])
@pytest.mark.parametrize("location", ["query", "param"])
def test_an_api_key_sent_in_the_url_is_refused(where, location):
    config = seed()
    auth = config["client"]["auth"] if where == "client" else _auth_moved(config, where)["auth"]
    auth["location"] = location
    with pytest.raises(ConfigError, match=f"alerts.*'{location}' puts the API key in the request URL") as caught:
        plan_for("alerts", API, config)
    assert KEY not in str(caught.value)


def test_credentials_in_the_base_url_are_refused_without_showing_them():
    config = seed()
    config["client"]["base_url"] = f"https://analytics:{KEY}@api.example.com"
    with pytest.raises(ConfigError, match="alerts.*carries credentials") as caught:
        plan_for("alerts", API, config)
    assert KEY not in str(caught.value)
    with pytest.raises(ValueError, match="carries credentials") as caught:
        ApiSettings(base_url=f"ftp://user:{KEY}@api.example.com", api_key=KEY)
    assert KEY not in str(caught.value)

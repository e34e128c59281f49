"""PageCheck on its own: which selector and key it takes from a config, and what it refuses."""

from __future__ import annotations

import json

import pytest
from requests import Response

from airflow_provider_analytics.source.http.page_check import MalformedPageError, PageCheck
from airflow_provider_analytics.source.seed_config import page_check_for


def response(body: object, url: str = "http://api.test/v2/users?limit=2&offset=2&api_key=secret") -> Response:
    reply = Response()
    reply.status_code = 200
    reply._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply.url = url
    return reply


def test_takes_selector_and_primary_key_from_the_resource_then_the_defaults():
    config = {
        "client": {"data_selector": "client_level"},
        "resource_defaults": {"primary_key": "key", "endpoint": {"data_selector": "items"}},
        "resources": [{"name": "a", "endpoint": {"path": "/a", "data_selector": "result.rows"}, "primary_key": "uid"},
                      {"name": "b", "endpoint": "/b"}],
    }
    a, b = page_check_for(config, "a"), page_check_for(config, "b")
    assert (a.data_selector, a.primary_key) == ("result.rows", "uid")
    assert (b.data_selector, b.primary_key) == ("items", "key")


def test_nested_and_jsonpath_selectors_find_the_records():
    PageCheck("a", "result.rows", "id")(response({"result": {"rows": [{"id": 1}]}}), 1)
    PageCheck("a", "$.result.rows", "id")(response({"result": {"rows": [{"id": 1}, {"id": 2}]}}), 1)
    with pytest.raises(MalformedPageError, match="has no 'result.rows' list"):
        PageCheck("a", "result.rows", "id")(response({"result": {}}), 1)


def test_the_message_shows_paging_parameters_but_not_other_query_values():
    with pytest.raises(MalformedPageError) as caught:
        PageCheck("users")(response(b"not json"), 3)
    assert "users: page 3 (/v2/users?limit=2&offset=2) is not valid JSON" in str(caught.value)
    assert "secret" not in str(caught.value)


def test_without_a_selector_only_the_json_is_checked_and_a_compound_key_skips_the_id_check():
    PageCheck("a", None)(response({"anything": 1}), 1)
    PageCheck("a", "data", ["id", "ts"])(response({"data": [{"no": "id"}]}), 1)

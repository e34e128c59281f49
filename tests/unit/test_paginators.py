"""Next-link and template cursor paginators: token handling and guards."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from typing import Any, Optional

import pytest
import requests
from requests import Request
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from dlt.common.configuration.specs.runtime_configuration import RuntimeConfiguration
from dlt.sources.helpers.rest_client import RESTClient

from airflow_provider_analytics.source.errors import (
    ForeignHostError,
    MaxPagesExceededError,
    PaginationError,
    PaginationLoopError,
    TemplateRenderError,
)
from airflow_provider_analytics.source.paging.guards import PaginationGuards
from airflow_provider_analytics.source.paging.next_link import NextLinkPaginator
from airflow_provider_analytics.source.paging.template_cursor import TemplateCursorPaginator

BASE = "https://api.example.com"
FIRST = f"{BASE}/v2/alerts?limit=2&sort=createdAt"
SEED_CURSOR = '{{ response.get("paging", {}).get("next", {}) }}'
SEED_STOP = '{{ not response.get("paging", {}).get("next", {}) }}'


def make_response(
    body: Any,
    url: str = FIRST,
    headers: Optional[dict[str, str]] = None,
) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
    response.url = url
    response.encoding = "utf-8"
    return response


def page(paginator, body: Any, url: str = FIRST, headers=None, data=None) -> Request:
    """Feed one page to the paginator the way RESTClient.paginate does."""
    request = Request("GET", url, params={"limit": 2})
    if data is None and isinstance(body, dict):
        data = body.get("data", [])
    paginator.update_state(make_response(body, url, headers), data)
    paginator.update_request(request)
    return request


def seed_paginator(base_url=BASE, **guards) -> TemplateCursorPaginator:
    return TemplateCursorPaginator(cursor_value=SEED_CURSOR, stop_condition=SEED_STOP, base_url=base_url,
                                   guards=PaginationGuards(**guards))


# -- the seed's expressions ------------------------------------------------------


def test_seed_expressions_follow_absolute_next_link():
    paginator = seed_paginator()
    nxt = f"{BASE}/v2/alerts?limit=2&sort=createdAt&offset=2&order=desc"
    request = page(paginator, {"data": [{"id": 1}, {"id": 2}], "paging": {"next": nxt}})
    assert paginator.has_next_page
    assert request.url == nxt
    assert request.params is None
    assert paginator.pages == 1


@pytest.mark.parametrize(
    "body",
    [
        {"data": [{"id": 1}]},
        {"data": [{"id": 1}], "paging": {"first": FIRST, "last": FIRST}},
        {"data": [], "paging": {"next": ""}},
        {"data": [], "paging": {"next": None}},
    ],
)
def test_seed_expressions_stop_without_next_link(body):
    paginator = seed_paginator()
    request = page(paginator, body)
    assert not paginator.has_next_page
    # The last page leaves the request alone (dlt calls update_request anyway).
    assert request.url == FIRST
    assert request.params == {"limit": 2}


def test_stop_condition_is_evaluated_first():
    paginator = TemplateCursorPaginator(
        cursor_value="{{ '/v2/alerts?offset=2' }}",
        stop_condition="{{ last_page_size < 2 }}",
        base_url=BASE,
    )
    page(paginator, {"data": [{"id": 1}]})
    assert not paginator.has_next_page

    paginator = TemplateCursorPaginator(
        cursor_value="{{ '/v2/alerts?offset=2' }}",
        stop_condition="{{ last_page_size < 2 }}",
        base_url=BASE,
    )
    request = page(paginator, {"data": [{"id": 1}, {"id": 2}]})
    assert paginator.has_next_page
    assert request.url == f"{BASE}/v2/alerts?offset=2"


def test_stop_condition_wins_even_when_cursor_would_fail():
    paginator = TemplateCursorPaginator(
        cursor_value="{{ response.paging.next }}", stop_condition="{{ 'paging' not in response }}"
    )
    page(paginator, {"data": []})
    assert not paginator.has_next_page


def test_falsy_cursor_stops_without_stop_condition():
    for cursor in ("{{ {} }}", "{{ None }}", "{{ '' }}", "{{ [] }}", "{{ 0 }}", "{{ false }}", "  "):
        paginator = TemplateCursorPaginator(cursor_value=cursor if cursor.strip() else "{{ '  ' }}")
        page(paginator, {"data": [1]})
        assert not paginator.has_next_page, cursor


def test_non_string_token_is_an_error():
    paginator = TemplateCursorPaginator(cursor_value="{{ 42 }}")
    with pytest.raises(PaginationError, match="int"):
        page(paginator, {"data": [1]})


# -- token forms --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "token", "expected"),
    [
        (BASE, "/v2/alerts?offset=100", f"{BASE}/v2/alerts?offset=100"),
        (BASE, "v2/alerts?offset=100", f"{BASE}/v2/alerts?offset=100"),
        ("http://h/api", "/v2/x", "http://h/api/v2/x"),
        ("http://h/api/", "/v2/x?a=1", "http://h/api/v2/x?a=1"),
        ("http://h/api", "v2/x", "http://h/api/v2/x"),
        (BASE, f"{BASE}/v2/alerts?offset=4#frag", f"{BASE}/v2/alerts?offset=4"),
        (BASE, "https://API.example.com:443/v2/alerts?offset=4", "https://api.example.com/v2/alerts?offset=4"),
    ],
)
def test_token_paths_and_urls(base_url, token, expected):
    paginator = TemplateCursorPaginator(cursor_value="{{ response.next }}", base_url=base_url)
    request = page(paginator, {"data": [1], "next": token}, url=base_url.rstrip("/") + "/v2/first")
    assert request.url == expected
    assert request.params is None


def test_query_token_replaces_current_query():
    paginator = TemplateCursorPaginator(cursor_value="{{ response.next }}", base_url="http://h/api")
    request = page(paginator, {"next": "?offset=100&limit=2"}, url="http://h/api/v2/alerts?limit=2&sort=x")
    assert request.url == "http://h/api/v2/alerts?offset=100&limit=2"


def test_base_taken_from_first_request_when_not_given():
    paginator = TemplateCursorPaginator(cursor_value="{{ response.next }}")
    paginator.init_request(Request("GET", "http://127.0.0.1:8080/api/v2/alerts"))
    request = page(paginator, {"next": "/v2/alerts?offset=2"}, url="http://127.0.0.1:8080/api/v2/alerts")
    # Only scheme, host and port are taken from the request URL.
    assert request.url == "http://127.0.0.1:8080/v2/alerts?offset=2"
    with pytest.raises(ForeignHostError):
        page(paginator, {"next": "http://127.0.0.1:9090/v2/alerts?offset=4"}, url=request.url)


def test_other_schemes_are_refused():
    paginator = TemplateCursorPaginator(cursor_value="{{ response.next }}", base_url=BASE)
    with pytest.raises(PaginationError, match="scheme"):
        page(paginator, {"next": "file:///etc/passwd"})


# -- guards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.net/v2/alerts?offset=2",
        "http://api.example.com/v2/alerts?offset=2",
        "https://api.example.com:8443/v2/alerts?offset=2",
        "//evil.example.net/v2/alerts",
    ],
)
def test_foreign_host_refused_by_default(link):
    paginator = seed_paginator()
    with pytest.raises(ForeignHostError) as info:
        page(paginator, {"data": [1], "paging": {"next": link}})
    message = str(info.value)
    assert "allow_foreign_hosts" in message
    assert "api.example.com" in message


def test_foreign_host_allowed_when_configured():
    paginator = seed_paginator(allow_foreign_hosts=True)
    request = page(paginator, {"data": [1], "paging": {"next": "https://eu.example.net/v2/alerts?offset=2"}})
    assert request.url == "https://eu.example.net/v2/alerts?offset=2"


def test_repeated_link_is_a_loop():
    paginator = seed_paginator()
    second = f"{BASE}/v2/alerts?offset=2"
    page(paginator, {"data": [1], "paging": {"next": second}})
    with pytest.raises(PaginationLoopError) as info:
        page(paginator, {"data": [1], "paging": {"next": second}}, url=second)
    assert "page 2" in str(info.value)
    assert "/v2/alerts" in str(info.value)


def test_link_back_to_current_page_is_a_loop():
    paginator = seed_paginator()
    with pytest.raises(PaginationLoopError, match="page 1"):
        page(paginator, {"data": [1], "paging": {"next": FIRST}})


def link(offset: int) -> str:
    return f"{BASE}/v2/alerts?offset={offset}"


def test_the_same_page_three_times_in_a_row_is_a_loop_even_under_new_links():
    # an API ignoring offset (or query) while its next links move on: without this, an endless walk
    paginator = NextLinkPaginator(base_url=BASE)
    same = [{"id": "a"}, {"id": "b"}]
    page(paginator, {"data": same, "paging": {"next": link(2)}})
    page(paginator, {"data": same, "paging": {"next": link(4)}}, url=link(2))  # one re-read is allowed
    with pytest.raises(PaginationLoopError, match="pages 1 to 3 hold the same 2 records in the same order"):
        page(paginator, {"data": same, "paging": {"next": link(6)}}, url=link(4))


@pytest.mark.parametrize(
    "pages",
    [
        [[{"id": "a"}, {"id": "b"}], [{"id": "a"}, {"id": "b"}], [{"id": "c"}], [{"id": "c"}]],  # re-read once, twice
        [[{"id": "a"}, {"id": "b"}], [{"id": "b"}, {"id": "a"}], [{"id": "a"}, {"id": "b"}]],  # other order
        [[{"n": 1}], [{"n": 1}], [{"n": 1}]],  # records without ids are not compared
        [[], [], []],
    ],
)
def test_pages_that_are_not_the_same_three_times_in_a_row_go_on(pages):
    paginator = NextLinkPaginator(base_url=BASE)
    for number, data in enumerate(pages):
        page(paginator, {"data": data, "paging": {"next": link(2 * number + 2)}}, url=link(2 * number))
    assert paginator.has_next_page


def test_the_same_page_as_the_last_one_just_ends_the_walk():
    paginator = NextLinkPaginator(base_url=BASE)
    same = [{"id": "a"}]
    page(paginator, {"data": same, "paging": {"next": link(2)}})
    page(paginator, {"data": same, "paging": {"next": link(4)}}, url=link(2))
    page(paginator, {"data": same}, url=link(4))
    assert not paginator.has_next_page and paginator.pages == 3


def test_max_pages():
    paginator = seed_paginator(max_pages=2)
    page(paginator, {"data": [1], "paging": {"next": f"{BASE}/v2/alerts?offset=2"}})
    with pytest.raises(MaxPagesExceededError, match="max_pages=2"):
        page(paginator, {"data": [1], "paging": {"next": f"{BASE}/v2/alerts?offset=4"}})

    paginator = seed_paginator(max_pages=2)
    page(paginator, {"data": [1], "paging": {"next": f"{BASE}/v2/alerts?offset=2"}})
    page(paginator, {"data": [1]}, url=f"{BASE}/v2/alerts?offset=2")
    assert not paginator.has_next_page
    assert paginator.pages == 2


def test_errors_share_a_base_class():
    for error in (ForeignHostError, PaginationLoopError, MaxPagesExceededError):
        assert issubclass(error, PaginationError)
    assert issubclass(PaginationError, RuntimeError)


def test_init_request_starts_a_fresh_run():
    paginator = seed_paginator(max_pages=1)
    for _ in range(2):
        paginator.init_request(Request("GET", FIRST))
        page(paginator, {"data": [1]})
        assert paginator.pages == 1
        assert not paginator.has_next_page


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "3"])
def test_max_pages_validated(bad):
    with pytest.raises(ValueError, match="max_pages"):
        NextLinkPaginator(guards=PaginationGuards(max_pages=bad))


# -- template context ------------------------------------------------------------------


def test_headers_are_case_insensitive():
    for cursor in ('{{ headers.get("X-Paging-Next") }}', '{{ headers["x-paging-next"] }}'):
        paginator = TemplateCursorPaginator(cursor_value=cursor, base_url=BASE)
        request = page(paginator, {"data": [1]}, headers={"X-Paging-Next": f"{BASE}/v2/alerts?offset=2"})
        assert request.url == f"{BASE}/v2/alerts?offset=2"


def test_last_record_page_size_and_config():
    paginator = TemplateCursorPaginator(
        cursor_value="/v2/alerts?after={{ last_record.id }}&limit={{ config.limit }}",
        stop_condition="{{ last_page_size < config.limit }}",
        config={"limit": 2},
        base_url=BASE,
    )
    request = page(paginator, {"data": [{"id": "a"}, {"id": "b"}]})
    assert request.url == f"{BASE}/v2/alerts?after=b&limit=2"
    page(paginator, {"data": [{"id": "c"}]}, url=request.url)
    assert not paginator.has_next_page


def test_last_record_is_none_on_empty_page():
    paginator = TemplateCursorPaginator(cursor_value="{{ '' if last_record is none else 'x' }}")
    page(paginator, {"data": []})
    assert not paginator.has_next_page


def test_non_json_body_is_a_clear_error():
    paginator = seed_paginator()
    with pytest.raises(PaginationError, match="not valid JSON"):
        page(paginator, b"<html>oops</html>", data=[])


def test_bad_templates_rejected_in_constructor():
    with pytest.raises(TemplateRenderError):
        TemplateCursorPaginator(cursor_value="{{ response.get( }}")
    with pytest.raises(TemplateRenderError):
        TemplateCursorPaginator(cursor_value=SEED_CURSOR, stop_condition="{% if %}")
    with pytest.raises(ValueError):
        TemplateCursorPaginator(cursor_value="")


def test_render_error_names_the_template_role():
    paginator = TemplateCursorPaginator(cursor_value="{{ response.paging.next }}")
    with pytest.raises(TemplateRenderError, match="cursor_value"):
        page(paginator, {"data": [1]})


# -- base class, copies, text --------------------------------------------------------


def test_next_link_paginator_reads_paging_next():
    paginator = NextLinkPaginator(base_url=BASE)
    request = page(paginator, {"data": [1], "paging": {"next": "/v2/users?offset=100"}})
    assert request.url == f"{BASE}/v2/users?offset=100"
    page(paginator, {"data": [1], "paging": {}}, url=request.url)
    assert not paginator.has_next_page


def test_deepcopy_and_pickle():
    paginator = TemplateCursorPaginator(cursor_value=SEED_CURSOR, stop_condition=SEED_STOP, config={"limit": 2},
                                        base_url=BASE, guards=PaginationGuards(max_pages=5))
    page(paginator, {"data": [1], "paging": {"next": f"{BASE}/v2/alerts?offset=2"}})
    clone = copy.deepcopy(paginator)
    assert clone.pages == 1 and clone.cursor_value == SEED_CURSOR
    page(clone, {"data": [1], "paging": {"next": f"{BASE}/v2/alerts?offset=4"}}, url=f"{BASE}/v2/alerts?offset=2")
    assert clone.pages == 2 and paginator.pages == 1
    restored = pickle.loads(pickle.dumps(paginator))
    assert restored.pages == 1 and restored.max_pages == 5


def test_str_is_short_and_secret_free():
    paginator = TemplateCursorPaginator(
        cursor_value="{{ config.token }}", config={"token": "s3cr3t"}, base_url=BASE, guards=PaginationGuards(max_pages=3)
    )
    for text in (str(paginator), repr(paginator)):
        assert "s3cr3t" not in text and "config" not in text
        assert text.startswith("TemplateCursorPaginator(") and len(text) < 80


# -- through dlt's REST client ---------------------------------------------------------


class _PagesAdapter(BaseAdapter):
    """Serves canned JSON pages keyed by URL (a transport, not an HTTP mock)."""

    def __init__(self, pages: dict[str, dict]):
        super().__init__()
        self.pages = pages
        self.calls: list[str] = []

    def send(self, request, **kwargs):
        self.calls.append(request.url)
        response = make_response(self.pages[request.url], url=request.url)
        response.request = request
        return response

    def close(self):
        pass


def test_rest_client_paginates_with_seed_expressions():
    pages = {
        f"{BASE}/v2/alerts?limit=2": {
            "data": [{"id": 1}, {"id": 2}],
            "paging": {"next": f"{BASE}/v2/alerts?limit=2&offset=2"},
        },
        f"{BASE}/v2/alerts?limit=2&offset=2": {
            "data": [{"id": 3}, {"id": 4}],
            "paging": {"next": "/v2/alerts?limit=2&offset=4"},  # a path this time
        },
        f"{BASE}/v2/alerts?limit=2&offset=4": {"data": [{"id": 5}], "paging": {"first": "x"}},
    }
    adapter = _PagesAdapter(pages)
    session = requests.Session()
    session.mount(BASE, adapter)
    paginator = seed_paginator()
    # An explicit config skips dlt's config resolution (which probes for Airflow).
    client = RESTClient(base_url=BASE, session=session, paginator=paginator, config=RuntimeConfiguration())
    records = [r["id"] for p in client.paginate("/v2/alerts", params={"limit": 2}, data_selector="data") for r in p]
    assert records == [1, 2, 3, 4, 5]
    assert adapter.calls == list(pages)
    # paginate() works on a deep copy of the client's paginator.
    assert paginator.pages == 0


def test_source_modules_import_no_airflow():
    code = (
        "import sys\n"
        "import airflow_provider_analytics.source.templates\n"
        "import airflow_provider_analytics.source.paging.template_cursor\n"
        "import airflow_provider_analytics.source.http.session\n"
        "loaded = sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

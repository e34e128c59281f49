"""Cap walks against the fake API on loopback, through dlt's REST client: what each walk requests and yields."""

from __future__ import annotations

import copy
import pickle
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import pytest

from dlt.common.configuration.specs.runtime_configuration import RuntimeConfiguration
from dlt.sources.helpers.rest_client import RESTClient

from airflow_provider_analytics.source.paging.guards import PaginationGuards
from airflow_provider_analytics.source.plan import plan_for
from airflow_provider_analytics.source.errors import ForeignHostError, MaxPagesExceededError, PaginationLoopError
from airflow_provider_analytics.source.paging.template_cursor import TemplateCursorPaginator
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.source.paging.two_ended import TwoEndedPaginator, TwoEndedWalk
from airflow_provider_analytics.source.errors import OffsetCapError
from airflow_provider_analytics.source.paging.cap_walks import WindowWalk
from airflow_provider_analytics.source.timestamps import epoch_ms
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI, FakeReply
from tests.helpers import load_seed_config

KEY = "cap-walk-key"
SEED_CURSOR = '{{ response.get("paging", {}).get("next", {}) }}'
SEED_STOP = '{{ not response.get("paging", {}).get("next", {}) }}'


def fetch(api: FakeAnalyticsAPI, path: str, paginator, params=None) -> list[dict]:
    """Every record a listing yields, with `paginator` itself (not a copy) driving it, as dlt's REST source does."""
    client = RESTClient(base_url=api.base_url, headers={"Authorization": f"GenieKey {KEY}"}, config=RuntimeConfiguration())
    pages = client.paginate(path, params=params or {"limit": 100}, paginator=paginator, data_selector="data")
    return [record for page in pages for record in page]


def requests_made(api: FakeAnalyticsAPI) -> list[dict[str, str]]:
    return [dict(parse_qsl(urlsplit(path).query)) for _, path, _ in api.request_log]


def seed_paginator(api: FakeAnalyticsAPI, resource: str, cap: int, **guards):
    """The paginator the seed config gets for `resource`, as the provider translates it."""
    plan = plan_for(resource, ApiSettings(api.base_url, KEY), load_seed_config(api.base_url, KEY),
                    PaginationGuards(offset_cap=cap, **guards))
    entry = next(r for r in plan.rest_config["resources"] if r["name"] == resource)
    return entry["endpoint"]["paginator"]


def assert_each_once(got: list[dict], upstream: list[dict]) -> None:
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)) == len(upstream)
    assert set(ids) == {r["id"] for r in upstream}


# -- two-ended walk ------------------------------------------------------------------


def test_two_ended_walk_lists_ascending_then_descending_and_stops_past_the_boundary():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        got = fetch(api, "/v1/services", TwoEndedPaginator(resource="services", guards=PaginationGuards(offset_cap=500)))
        assert_each_once(got, api.records("services"))
        made = requests_made(api)
    orders = Counter(q.get("order") for q in made)
    # 5 ascending pages reach the cap; 400 new records plus the boundary take 5 descending pages.
    assert orders == {"asc": 5, "desc": 5}
    # the spec names no sort field services could use: the walk flips only `order`
    assert all("sort" not in q and int(q.get("offset", 0)) + int(q["limit"]) <= 500 for q in made)


def test_repeated_names_across_the_boundary_land_once_each():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        by_name = sorted(api.records("services"), key=lambda s: s["name"])
        shared = by_name[470]["name"]
        for service in by_name[471:540]:  # the ascending walk ends inside this run of equal names
            api.update("services", service["id"], name=shared)
        got = fetch(api, "/v1/services", TwoEndedPaginator(resource="services", guards=PaginationGuards(offset_cap=500)))
        assert_each_once(got, api.records("services"))
    assert sum(1 for s in got if s["name"] == shared) == 70


def test_repeated_names_land_once_each_when_the_server_orders_ties_differently_each_way():
    """Descending, this server keeps equal names in their ascending order (a stable sort, reversed key).

    The second walk then meets the records the first walk delivered before the ones it missed:
    stopping at the first delivered record would lose the rest of the run.
    """
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        by_name = sorted(api.records("services"), key=lambda s: s["name"])
        shared = by_name[470]["name"]
        for service in by_name[471:540]:
            api.update("services", service["id"], name=shared)
        upstream = api.records("services")
        descending = sorted(upstream, key=lambda s: s["name"], reverse=True)  # ties stay in ascending order

        def stable_descending(request):
            if request.path != "/v1/services" or request.query.get("order") != "desc":
                return None
            offset, limit = int(request.query.get("offset", 0)), int(request.query["limit"])
            following = offset + limit
            paging = {}
            if following < len(descending) and following + limit <= 500:
                paging["next"] = f"{api.base_url}/v1/services?limit={limit}&sort=name&offset={following}&order=desc"
            return FakeReply(200, {"data": descending[offset:following], "paging": paging})

        api.faults.append(stable_descending)
        got = fetch(api, "/v1/services", TwoEndedPaginator(resource="services", guards=PaginationGuards(offset_cap=500)))
    assert_each_once(got, upstream)


def test_two_ended_walk_fails_when_the_ends_do_not_meet():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 1300}, offset_cap=500) as api:
        with pytest.raises(OffsetCapError) as raised:
            fetch(api, "/v1/services", TwoEndedPaginator(resource="services", guards=PaginationGuards(offset_cap=500)))
    message = str(raised.value)
    assert message.startswith("services:") and "at most 500 records" in message and "1,000" in message
    assert "Leave services out of this sync" in message


def test_a_run_of_one_name_longer_than_both_walks_fails():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 450}, offset_cap=200) as api:
        for service in api.records("services"):
            api.update("services", service["id"], name="same")
        with pytest.raises(OffsetCapError, match="services: .*at most 200 records"):
            fetch(api, "/v1/services", TwoEndedPaginator(resource="services", guards=PaginationGuards(offset_cap=200)))


def test_two_ended_walk_counts_against_max_pages():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        with pytest.raises(MaxPagesExceededError, match="max_pages=7"):
            fetch(api, "/v1/services", TwoEndedPaginator(resource="services", guards=PaginationGuards(offset_cap=500, max_pages=7)))
        assert len(api.request_log) == 7


def test_two_ended_walk_refuses_a_foreign_host_on_the_way_back():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        def foreign_next(request):
            if request.query.get("order") == "desc":
                return FakeReply(200, {"data": [], "paging": {"next": "https://elsewhere.example/v1/services?offset=100"}})
            return None

        api.faults.append(foreign_next)
        with pytest.raises(ForeignHostError, match="elsewhere.example"):
            fetch(api, "/v1/services", TwoEndedPaginator(resource="services", base_url=api.base_url, guards=PaginationGuards(offset_cap=500)))


def test_two_ended_walk_detects_a_repeated_link_on_the_way_back():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        def back_to_the_start(request):
            if request.query.get("order") == "desc":
                return FakeReply(200, {"data": [], "paging": {"next": f"{api.base_url}/v1/services?limit=100&order=asc"}})
            return None

        api.faults.append(back_to_the_start)
        with pytest.raises(PaginationLoopError, match="already requested"):
            fetch(api, "/v1/services", TwoEndedPaginator(resource="services", guards=PaginationGuards(offset_cap=500)))


def test_seed_services_walk_from_the_default_ascending_end_then_descending():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        paginator = seed_paginator(api, "services", 500)
        assert isinstance(paginator, TemplateCursorPaginator)
        got = fetch(api, "/v1/services", paginator)
        assert_each_once(got, api.records("services"))
        made = requests_made(api)
    assert "order" not in made[0]  # the seed's own first request, as written
    assert Counter(q.get("order", "asc") for q in made) == {"desc": 5, "asc": 5}  # the spec's default: asc


# -- createdAt windows -----------------------------------------------------------------


def test_seed_alerts_go_on_in_descending_windows():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 1700}, offset_cap=500) as api:
        got = fetch(api, "/v2/alerts", seed_paginator(api, "alerts", 500))
        assert_each_once(got, api.records("alerts"))
        made = requests_made(api)
    stamps = [epoch_ms(a["createdAt"]) for a in got]
    assert stamps == sorted(stamps, reverse=True)  # the listing's own order, across windows
    windows = [q["query"] for q in made if "query" in q and q.get("offset", "0") == "0"]
    assert len(windows) == 3 and all(w.startswith("createdAt<=") for w in windows)
    assert all("sort" not in q for q in made if q.get("offset") == "0")  # the seed states no sort
    assert all(int(q.get("offset", 0)) + int(q["limit"]) <= 500 for q in made)


def test_an_ascending_listing_with_its_own_query_keeps_both_in_every_window():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 3000}, offset_cap=300) as api:
        paginator = TemplateCursorPaginator(SEED_CURSOR, SEED_STOP, cap_walks={"/v2/alerts": WindowWalk("createdAt", 300, "alerts")})
        got = fetch(api, "/v2/alerts", paginator, params={"limit": 100, "order": "asc", "query": "status:closed"})
        closed = [a for a in api.records("alerts") if a["status"] == "closed"]
        made = requests_made(api)
    assert len(closed) > 600  # enough for several windows
    assert_each_once(got, closed)
    windows = [q for q in made if q.get("offset") == "0"]
    assert windows and all(q["order"] == "asc" and q["query"].startswith("status:closed AND createdAt>=") for q in windows)


def test_window_walk_fails_when_more_than_the_cap_share_one_millisecond():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 250}, offset_cap=200) as api:
        for alert in api.records("alerts"):
            api.update("alerts", alert["id"], createdAt="2024-05-01T00:00:00Z")
        with pytest.raises(OffsetCapError, match="alerts: over 200 records share createdAt 1714521600000"):
            fetch(api, "/v2/alerts", seed_paginator(api, "alerts", 200))


def test_a_listing_sorted_by_another_field_fails_at_the_cap_naming_the_sort():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 700}, offset_cap=300) as api:
        paginator = seed_paginator(api, "alerts", 300)
        with pytest.raises(OffsetCapError, match="alerts: .*sorted by 'tinyId'.*sort=createdAt"):
            fetch(api, "/v2/alerts", paginator, params={"limit": 100, "sort": "tinyId"})
        assert len(api.request_log) == 3  # nothing past the cap was requested


def test_window_urls_count_against_max_pages():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 700}, offset_cap=300) as api:
        with pytest.raises(MaxPagesExceededError, match="max_pages=3"):
            fetch(api, "/v2/alerts", seed_paginator(api, "alerts", 300, max_pages=3))
        assert len(api.request_log) == 3


def test_uncapped_endpoints_and_short_listings_are_left_alone():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"users": 700, "alerts": 300}, offset_cap=500) as api:
        users = fetch(api, "/v2/users", seed_paginator(api, "users", 500))
        alerts = fetch(api, "/v2/alerts", seed_paginator(api, "alerts", 500))
        made = requests_made(api)
    assert_each_once(users, api.records("users"))
    assert_each_once(alerts, api.records("alerts"))
    assert not any("query" in q for q in made) and len(made) == 7 + 3


def test_walks_copy_and_reset_with_their_paginator():
    walk = TwoEndedWalk(offset_cap=500, resource="services")
    paginator = TemplateCursorPaginator(SEED_CURSOR, SEED_STOP, cap_walks={"v1/services/": walk})
    assert paginator.walk_for("http://127.0.0.1:1/api/v1/services") is walk
    assert paginator.walk_for("http://127.0.0.1:1/v2/users") is None
    for clone in (copy.deepcopy(paginator), pickle.loads(pickle.dumps(paginator))):
        assert clone.walk_for("http://h/v1/services").offset_cap == 500
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        first = fetch(api, "/v1/services", paginator)
        second = fetch(api, "/v1/services", paginator)  # the same instance, reused for a new run
        assert_each_once(first, api.records("services"))
        assert_each_once(second, api.records("services"))

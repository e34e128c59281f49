"""A sync's memory: decoded pages go with their responses, and the garbage collector is left as found."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import requests

from airflow_provider_analytics.pipeline.gc_freeze import collections_skip_older_objects
from airflow_provider_analytics.source.http.session import decode_once
from tests.helpers import REPO


def test_a_decoded_page_goes_with_its_response_without_the_garbage_collector():
    response = requests.Response()
    response.status_code = 200
    response._content = b'{"data": [{"id": "a1", "tags": ["x"]}]}'
    decode_once(response)
    assert response.json() == {"data": [{"id": "a1", "tags": ["x"]}]}
    assert response.json() is response.json()  # decoded once
    gone = weakref.ref(response)
    gc.disable()
    try:
        del response
        assert gone() is None  # no reference cycle: freed as soon as it is dropped
    finally:
        gc.enable()


def test_a_sync_leaves_the_garbage_collector_as_it_found_it():
    already_frozen = gc.get_freeze_count() > 0
    with collections_skip_older_objects():
        assert gc.get_freeze_count() > 0
    assert (gc.get_freeze_count() > 0) == already_frozen


def test_objects_frozen_by_someone_else_stay_frozen():
    gc.freeze()
    try:
        with collections_skip_older_objects():
            pass
        assert gc.get_freeze_count() > 0  # not unfrozen (the count itself drops as frozen objects are freed)
    finally:
        gc.unfreeze()


#: Run in a fresh interpreter: in a test worker, what earlier tests left running (threads, log set-up)
#: can make garbage of its own while the collector is off, and `gc.collect()` counts all of it.
REQUESTS_WITH_THE_COLLECTOR_OFF = """
import gc
from requests import Request
from airflow_provider_analytics.source.http.session import RetryingSession
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI

with FakeAnalyticsAPI(api_key="k", sizes={"teams": 3}) as api:
    session = RetryingSession(on_page=lambda response: None)
    request = session.prepare_request(Request("GET", f"{api.base_url}/v2/teams", headers={"api_key": "k"}))
    session.send(request)  # the session's own objects, made on first use, are not garbage
    gc.collect()
    gc.disable()
    try:
        statuses = {session.send(request).status_code for _ in range(20)}
        left = gc.collect()
    finally:
        gc.enable()
print(sorted(statuses), left)
"""


def test_requests_through_a_retrying_session_leave_nothing_for_the_garbage_collector():
    done = subprocess.run([sys.executable, "-c", REQUESTS_WITH_THE_COLLECTOR_OFF], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    statuses, left = done.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert statuses == "[200]"
    assert left == "0"  # a reference cycle per request costs a sync a few percent in collections

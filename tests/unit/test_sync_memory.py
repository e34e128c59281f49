"""A sync's memory: decoded pages go with their responses, and the garbage collector is left as found."""

from __future__ import annotations

import gc
import weakref

import requests

from airflow_provider_analytics.pipeline.gc_freeze import collections_skip_older_objects
from airflow_provider_analytics.source.http.session import decode_once


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

"""A fast, faithful fake of the upstream (OpsGenie-shaped) REST API.

The fake is a real HTTP/1.1 server on a loopback address, so the provider's
whole stack (session, auth, retries, paginators, dlt) runs unchanged against
it. It mirrors the facts in the shared API notes:

* Endpoints: ``GET /v2/users``, ``/v2/teams``, ``/v1/services``,
  ``/v2/integrations``, ``/v1/incidents``, ``/v2/alerts``, ``/v2/schedules``,
  ``/v2/escalations``, ``/v2/heartbeats``, and under one parent record
  ``/v2/alerts/{identifier}/logs``, ``/notes``, ``/recipients``,
  ``/v2/users/{identifier}/teams`` and ``/v2/teams/{identifier}``. Anything else is a
  404 JSON error, and so is an unknown parent (``Alert with id [..] does not exist``).
* Auth: ``Authorization: GenieKey <key>`` (the API's own scheme) and also a
  bare key in a header named ``api_key`` (``api_key: <key>``), because the
  seed config sends the key that way (``name: api_key, location: header``).
  A missing or wrong key gives 401 ``{"message": "Could not authenticate"}``.
* Envelope: every body has ``took`` and ``requestId``; lists carry
  ``data`` and absolute ``paging`` links (also as ``X-Paging-*`` headers);
  users and incidents add ``totalCount``; teams and integrations are one
  unpaginated list (integrations add ``"code": 200``).
* Paging as the vendor's OpenAPI spec states it (``resources.py``; a unit test checks it against
  an extract of the spec): ``limit`` (alerts and incidents: at most 100, more is a 422; users
  and services: clamped to ``max_limit``), ``offset``, ``sort`` (alerts: the spec's 20 fields,
  ``updatedAt`` among them; incidents: ``createdAt``, ``tinyId``, ``message``, ``status``,
  ``isSeen``, ``owner``, so ``sort=updatedAt`` is a 422), ``sortField`` (users, services),
  ``order`` (default ``desc``; users and services ``asc``). Alerts, incidents and services
  refuse ``offset + limit`` above ``offset_cap`` with 422, and their ``next`` link disappears
  where the cap would be crossed, so a client that only follows ``next`` stops there silently,
  as upstream. Every response carries a ``Date`` header.
* Alert logs and notes page by offset token as the spec's listLogs/listNotes say: ``offset``
  (the ``offset`` of the last entry read; tokens look like upstream's
  ``1704067241030_1704067241030000003`` and sort by createdAt), ``direction`` (``next``/``prev``),
  ``limit`` (1..100, default 20; more is a 422), ``order`` (default ``desc``), ``identifierType``
  (``id``, ``tiny`` or ``alias``). The body is ``{"data": [...], "paging": {"first", "next"}}``,
  ``next`` (also ``X-Paging-Next``) an absolute link present only while entries follow.
  Recipients, a user's teams (``[{id, name}]``) and a team with its ``members``
  (``[{user: {id, username}, role}]``, ``identifierType`` ``id``/``name``) come whole. Schedules
  list with ``expandable: ["rotation"]`` and carry their rotations only with ``expand=rotation``
  (else ``rotations: []``; another ``expand`` value is a 422); escalations are one list;
  heartbeats sit in ``data.heartbeats``, keyed by ``name``.
* Children are drawn lazily: an alert's logs, notes and recipients on first request, from the
  alert's record and an RNG seeded by the seed and the alert's id, then cached, so 200,000 alerts
  start as fast as before. They agree with the alert (``children.py``); team membership puts each
  generated user in 1-3 teams and every team has a member.
* ``query`` on alerts and incidents: terms joined by `` AND ``, either
  ``createdAt>=<epoch ms>`` style ranges (``createdAt``/``updatedAt`` with
  ``>=``, ``>``, ``<=``, ``<``) or ``field:value`` equality.
* What the spec leaves open is a switch, strict by default: ``updated_at_search`` (an
  ``updatedAt`` term is ``"rejected"`` with 422, ``"ignored"``, or ``"accepted"``) and
  ``incident_query_required`` (refuse incidents listed without ``query``; off by default,
  because the seed's config sends none). Both can be changed while the server runs.
* ``budget`` (requests per second, with ``burst``): a token bucket per account; past it, 429
  ``You are making too many requests!`` with ``X-RateLimit-State: THROTTLED``,
  ``X-RateLimit-Reason`` and ``X-RateLimit-Period-In-Sec``, as the vendor throttles.

Speed matters because benchmarks run against it: every record is serialised
to JSON once and pages are joined from those bytes; sorted and filtered
index lists are cached until the data changes.

Tests can change the data (:meth:`FakeAnalyticsAPI.update`, ``add``,
``remove`` on any listed resource; ``append_alert_log``/``append_alert_note`` for long
timelines; ``set_team_members``), read the upstream truth (``records(table)`` for all fourteen
warehouse tables, ``children(table, parent_id)`` for one parent), slow every request
(``latency``) or inject replies through
``faults``: callables that get a :class:`FakeRequest` and return a
:class:`FakeReply` to send instead (any status, headers and body, after a
delay, or a dropped connection), or ``None`` to pass.

The JSM operations API (the successor of this API) is served too, from the same data at the same
time, under :attr:`FakeAnalyticsAPI.jsm_base_url` (``<base>/jsm/ops/api/<cloud id>``; ``jsm.py``
lists what the reference leaves open and how the fake decides it):

* Endpoints: ``GET /v1/alerts`` (``offset``, ``size`` 1..100 default 20, ``sort``
  ``createdAt|insertedAt|lastOccurredAt|priority`` default ``insertedAt``, ``order``, ``query`` with
  the classic syntax, ``from``/``to`` accepted and ignored; ``offset + size`` above ``offset_cap`` is
  a 422), ``/v1/alerts/{id}``, ``/v1/alerts/alias``, ``/v1/alerts/{id}/logs`` and ``/notes``
  (``after`` cursor, ``size``), ``/v1/teams`` (``platformTeams``, not paged), ``/v1/schedules``
  (``query``, ``size`` 1..50 default 25, ``offset``, ``expand=rotation``), ``/v1/teams/{teamId}/escalations``
  and ``/heartbeats`` (per team) and ``/v1/integrations`` (``type``, ``teamId``, ``name``, ``offset``,
  ``size`` default 100). Users, services, incidents, recipients and team members have no JSM
  endpoint: 404, as do another cloud id and any other path. Parameters out of bounds: 422.
* Records: the JSM shapes made from the classic ones (an alert's ``seen``, ``integrationType``,
  ``integrationName``; a note's ``id``; a schedule's ``teamId``; delays in minutes; a heartbeat's
  ``status``); :meth:`FakeAnalyticsAPI.jsm_records` returns them all, as served.
* Envelope: ``{"values": [...], "links": {"next": ...}}`` (alerts add ``count``, schedules
  ``_expands``, integrations ``links.previous``), ``next`` absent on the last page and relative to the
  JSM base URL unless ``jsm_absolute_links``. No ``took``/``requestId``/``data``/``paging``.
* Auth: ``Authorization: Basic base64(<jsm_email>:<api_key>)`` only; else 401
  ``{"code": 401, "message": ...}``. Other errors: ``{"errors": [{"title", "code"}]}``.
* The same ``budget`` for both sides (one account); throttled on a JSM path: 429 with
  ``Retry-After`` and ``X-RateLimit-Reset``. ``faults``, ``latency`` and ``request_log`` cover both.

Command line (serves until SIGINT/SIGTERM, prints the classic base URL, then the JSM one)::

    python -m airflow_provider_analytics.testing.fake_api --port 8080 \\
        --api-key KEY --alerts 30000 --incidents 5000 --seed 0 --updated-at-search ignored \\
        --cloud-id 5a7c2f0e-8f3b-4d2a-9c61-0b1e2d3f4a5b --jsm-email ops@example.com
"""

from __future__ import annotations

from .cli import main
from .data import COLUMNS, DEFAULT_SIZES, FIELDS, KEYS, PARENTS, iso_ms, parse_ms
from .jsm import FAKE_CLOUD_ID, JSM_OPERATIONS, JSM_RESOURCES, JsmOperation, JsmParam
from .query import UPDATED_AT_SEARCH_MODES, QueryError, parse_query
from .resources import CHILDREN, RESOURCES
from .server import FakeAnalyticsAPI, FakeReply, FakeRequest, Fault

__all__ = [
    "CHILDREN",
    "COLUMNS",
    "DEFAULT_SIZES",
    "FAKE_CLOUD_ID",
    "FIELDS",
    "FakeAnalyticsAPI",
    "FakeReply",
    "FakeRequest",
    "Fault",
    "JSM_OPERATIONS",
    "JSM_RESOURCES",
    "JsmOperation",
    "JsmParam",
    "KEYS",
    "PARENTS",
    "QueryError",
    "RESOURCES",
    "UPDATED_AT_SEARCH_MODES",
    "iso_ms",
    "main",
    "parse_ms",
    "parse_query",
]

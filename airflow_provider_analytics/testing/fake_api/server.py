"""HTTP side of the fake API: the server, routing, auth, paged responses and fault injection.

:class:`FakeAnalyticsAPI` serves the tables of :mod:`.store` and delegates changes to them.
"""

from __future__ import annotations

import http
import ipaddress
import json
import socket
import socketserver
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, cast
from urllib.parse import parse_qsl, quote, unquote

from .budget import THROTTLED_MESSAGE, RequestBudget
from .children import Children, parse_offset, window
from .data import DEFAULT_SIZES, PARENTS, encode
from .jsm import FAKE_CLOUD_ID, PREFIX as JSM_PREFIX, JsmSide, error_reply, is_jsm_path, throttled_reply
from .query import UPDATED_AT_SEARCH_MODES, QueryError, parse_query, select
from .resources import BY_PATH, RESOURCES, SORT_FIELDS, ChildSpec, Spec, match_child
from .store import Table, Tables


# --------------------------------------------------------------------------
# Fault-injection hooks
# --------------------------------------------------------------------------


@dataclass
class FakeRequest:
    """What a fault sees of an incoming request."""

    method: str
    path: str
    query: dict[str, str]
    headers: Any  # email.message.Message: case-insensitive .get()


@dataclass
class FakeReply:
    """A reply a fault sends instead of the normal one.

    ``body`` may be bytes (sent as is, e.g. a broken body) or a JSON-able
    object; a dict gets ``took``/``requestId`` filled in when missing (not on JSM paths, whose
    bodies carry neither).
    """

    status: int
    body: bytes | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: seconds to wait before answering (a slow upstream; longer than the client's timeout: a read timeout)
    delay: float = 0.0
    #: close the connection instead of answering (the client sees the connection aborted)
    drop: bool = False


Fault = Callable[[FakeRequest], "FakeReply | None"]


# --------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------


_PHRASES = {s.value: s.phrase for s in http.HTTPStatus}
_CONTENT_TYPE = "application/json"


def _envelope_tail(t0: float) -> bytes:
    """The ``took``/``requestId`` end of every body."""
    took = round(time.perf_counter() - t0, 3)
    return b'"took":%s,"requestId":"%s"}' % (repr(took).encode(), str(uuid.uuid4()).encode())


def _error(status: int, message: str, t0: float) -> tuple[int, dict[str, str], bytes]:
    return status, {}, b'{"message":' + encode(message).encode() + b"," + _envelope_tail(t0)


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} should be an integer, got {raw!r}") from None
    if value < 0:
        raise QueryError(f"{name} should not be negative")
    return value


def _paging(base: str, spec: Spec, limit: int, sort: str, order: str, query: str,
            offset: int, total: int, cap: int | None) -> dict[str, str]:
    """Absolute first/next/last links carrying the whole query."""
    tail = "&query=" + quote(query, safe="") if query else ""

    def link(off: int) -> str:
        return f"{base}{spec.path}?limit={limit}&{spec.sort_param}={sort}&offset={off}&order={order}{tail}"

    last = (total - 1) // limit * limit if total else 0
    if cap is not None and last + limit > cap:
        last = max(0, (cap - limit) // limit * limit)
    paging = {}
    nxt = offset + limit
    if nxt < total and (cap is None or nxt + limit <= cap):
        paging["next"] = link(nxt)
    paging["first"] = link(0)
    paging["last"] = link(last)
    return paging


class _NotFound(LookupError):
    """The parent named in the path does not exist: answered with 404."""


def _without_rotations(blob: bytes) -> bytes:
    """A schedule's record as listed without ``expand=rotation``: ``rotations`` empty."""
    record = json.loads(blob)
    record["rotations"] = []
    return encode(record).encode()


#: What `_respond` returns for a dropped connection (never a real status).
_DROPPED: tuple[int, dict[str, str], bytes] = (0, {}, b"")


def _render(reply: FakeReply, t0: float, envelope: bool = True) -> tuple[int, dict[str, str], bytes]:
    """A fault's reply as (status, headers, body); ``envelope``: fill in ``took``/``requestId`` (classic paths)."""
    body = reply.body
    if isinstance(body, dict) and envelope:
        body = {**body}
        body.setdefault("took", round(time.perf_counter() - t0, 3))
        body.setdefault("requestId", str(uuid.uuid4()))
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = encode(body).encode()
    return reply.status, dict(reply.headers), data


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler; each reply goes out in one write."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeAnalyticsAPI/1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request stderr logging (it costs more than the reply)."""

    def do_GET(self) -> None:
        length = self.headers.get("Content-Length")
        if length:
            self.rfile.read(int(length))
        status, headers, body = self.server.api._respond(self.command, self.path, self.headers)
        if status == _DROPPED[0]:  # a fault asked to drop the connection: no reply at all
            self.close_connection = True
            return
        head = [f"HTTP/1.1 {status} {_PHRASES.get(status, 'Unknown')}\r\n"
                f"Date: {formatdate(usegmt=True)}\r\n"
                f"Content-Type: {_CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n"]
        for name, value in headers.items():
            if name.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
            head.append(f"{name}: {value}\r\n")
        if self.close_connection and "Connection" not in headers:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        self.wfile.write("".join(head).encode("latin-1") + body)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET


class _Server(ThreadingHTTPServer):
    """Threading server that knows its open connections, to close them on stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: "FakeAnalyticsAPI", family: int):
        self.address_family = family
        self.api = api
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        # an AF_INET(6) address: (host text, port, ...)
        self.server_name, self.server_port = cast(str, self.server_address[0]), self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-reply is normal (timeouts, stop()); stay quiet."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------


class FakeAnalyticsAPI:
    """The upstream API over real HTTP on loopback, with deterministic data.

    Data for a resource is a pure function of ``seed``, the resource and
    ``sizes``; it is generated on first use (``start()`` generates all of it
    up front so the first request is as fast as the rest).

    Listings follow the vendor's spec (``resources.py``). Two behaviours the spec leaves
    open are switches, both readable and settable while the server runs:

    :param updated_at_search: what ``query`` does with an ``updatedAt`` term, which the spec
        does not list as searchable: ``"rejected"`` (422, the default: the strict choice),
        ``"ignored"`` (the term is dropped and every record matches it) or ``"accepted"``.
    :param incident_query_required: refuse (422) a list of incidents without ``query``, as
        the spec's "required" reads strictly; the default accepts it, as the seed's config
        (which sends none) needs.
    :param budget: the account's requests per second (None: unlimited); past it, 429 with
        ``X-RateLimit-State: THROTTLED`` and ``X-RateLimit-Period-In-Sec``, as the vendor answers
        (on JSM paths: ``Retry-After`` and ``X-RateLimit-Reset``; both sides spend the same budget).
    :param burst: requests the budget allows at once (default: one second's worth).

    The same data is also served as the JSM operations API under :attr:`jsm_base_url` (``jsm.py``):

    :param cloud_id: the cloud id in the JSM paths; another one answers 404.
    :param jsm_email: the account email of JSM Basic auth (``<jsm_email>:<api_key>``).
    :param jsm_absolute_links: serve JSM ``links`` absolute (the reference's narrative) instead of
        relative to the base URL (every schema example of the reference, the default).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "test-key",
        sizes: dict[str, int] | None = None,
        seed: int = 0,
        max_limit: int = 100,
        offset_cap: int = 20000,
        latency: float = 0.0,
        updated_at_search: str = "rejected",
        incident_query_required: bool = False,
        budget: float | None = None,
        burst: float | None = None,
        cloud_id: str = FAKE_CLOUD_ID,
        jsm_email: str = "ops@example.com",
        jsm_absolute_links: bool = False,
    ):
        if host == "localhost":
            host = "127.0.0.1"
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the fake API binds loopback addresses only, not {host!r}")
        unknown = set(sizes or ()) - set(DEFAULT_SIZES)
        if unknown:
            raise ValueError(f"unknown resources in sizes: {sorted(unknown)}")
        self.host = host
        self.api_key = api_key
        self.seed = seed
        if updated_at_search not in UPDATED_AT_SEARCH_MODES:
            raise ValueError(f"updated_at_search must be one of {UPDATED_AT_SEARCH_MODES}, not {updated_at_search!r}")
        self.max_limit = max_limit
        self.offset_cap = offset_cap
        self.updated_at_search = updated_at_search
        self.incident_query_required = incident_query_required
        if not cloud_id or "/" in cloud_id:
            raise ValueError(f"cloud_id must be one path segment, not {cloud_id!r}")
        self.cloud_id = cloud_id
        self.jsm_email = jsm_email
        self.jsm_absolute_links = jsm_absolute_links
        #: The account's request budget (None: unlimited); every request spends from it.
        self.budget = RequestBudget(budget, burst) if budget else None
        #: Seconds added to every request.
        self.latency = latency
        #: Callables consulted in order per request; the first reply wins.
        self.faults: list[Fault] = []
        self.sizes = {**DEFAULT_SIZES, **(sizes or {})}
        self._port = port
        self._tables = Tables(self.sizes, seed)
        self._children = Children(self._tables)
        self._jsm = JsmSide(self)
        self._log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "FakeAnalyticsAPI":
        """Generate the data and serve it from a daemon thread."""
        if self._server is not None:
            return self
        for name in RESOURCES:
            self._table(name)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = _Server((self.host, self._port), self, family)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fake-api-{self._port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> "FakeAnalyticsAPI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def jsm_base_url(self) -> str:
        """Base URL of the JSM operations side: every JSM path is ``<this>/v1/...``."""
        return f"{self.base_url}{JSM_PREFIX}{quote(self.cloud_id, safe='')}"

    # -- inspection --------------------------------------------------------

    def records(self, resource: str) -> list[dict]:
        """The full upstream dataset of ``resource`` as its warehouse table should hold it (fresh copies).

        Works for all fourteen tables (:data:`~.data.COLUMNS`). Listed resources come in insertion
        order, schedules with their rotations; a child table (``alert_logs``, ``alert_notes``,
        ``alert_recipients``, ``user_teams``, ``team_members``) holds its parent's id (and the child's
        own key) plus the API's record, parents in order and then each parent's records as served
        (logs and notes ascending by offset). Child rows are drawn here if never requested before.
        """
        if resource in PARENTS:
            return self._children.records(resource)
        return json.loads(b"[" + b",".join(self._table(resource).blobs) + b"]")

    def children(self, resource: str, parent_id: str) -> list[dict]:
        """The API records of one parent of a child table, as served (logs and notes ascending by offset).

        ``parent_id`` is the alert's, user's or team's id; KeyError if there is no such parent.
        """
        return self._children.children(resource, parent_id)

    def jsm_records(self, resource: str) -> list[dict]:
        """Every record of a JSM resource (:data:`~.jsm.JSM_RESOURCES`) exactly as the JSM side serves it.

        Alerts in insertion order; schedules with their rotations (as ``expand=rotation`` serves
        them); escalations and heartbeats of every team together, team by team (records whose
        owner team does not exist are unreachable there, and absent here); alert logs and notes of
        every alert, each entry with an added ``alert_id``. KeyError for another resource.
        """
        return self._jsm.records(resource)

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of every request handled so far."""
        with self._log_lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- mutations ---------------------------------------------------------

    def update(self, resource: str, index_or_id: int | str, **fields: Any) -> dict:
        """Change fields of one record (by position or key); returns the new record.

        ``updatedAt`` moves to "now" (later than any existing time) unless
        given, as upstream does on any change. Time fields accept epoch ms,
        datetimes or ISO strings. An alert's timeline gets one log entry (``Alert closed``,
        ``Alert reopened``, ``Alert updated: message``...) and one note, both at the new updatedAt, with offsets
        after every earlier one. Schedules, escalations and heartbeats change too (a
        heartbeat's key is its ``name``).
        """
        if resource == "alerts":
            return self._children.update_alert(index_or_id, fields)
        return self._tables.update(resource, index_or_id, **fields)

    def add(self, resource: str, n: int = 1) -> list[dict]:
        """Append ``n`` new records created "now", later than every existing time.

        New alerts get their timeline like every other (an ``Alert created`` entry at createdAt);
        new users and teams belong to no team until :meth:`set_team_members` says otherwise.
        """
        return self._tables.add(resource, n)

    def remove(self, resource: str, id: str) -> dict:  # noqa: A002
        """Delete one record by key (``id``; a heartbeat's ``name``), as upstream; returns it.

        A removed alert's logs, notes and recipients answer 404 from then on.
        """
        removed = self._tables.remove(resource, id)
        if resource == "alerts":
            self._children.forget(id)
        return removed

    def append_alert_log(self, alert_id: str, n: int = 1) -> list[dict]:
        """Write ``n`` more log entries on an alert (a long timeline that needs many pages).

        They fall between the alert's latest entry and its updatedAt, with offsets after every
        earlier one; returns them as the API serves them.
        """
        return self._children.append(alert_id, "logs", n)

    def append_alert_note(self, alert_id: str, n: int = 1) -> list[dict]:
        """Write ``n`` more notes on an alert, like :meth:`append_alert_log`."""
        return self._children.append(alert_id, "notes", n)

    def set_team_members(self, team_id: str, members: Iterable[tuple[str, str]]) -> list[dict]:
        """Make ``[(user_id, role), ...]`` the members of a team (role ``admin`` or ``user``).

        ``GET /v2/teams/{id}`` and every member's ``GET /v2/users/{id}/teams`` change together.
        KeyError for an unknown team or user. Returns the members as served.
        """
        self._children.set_team_members(team_id, members)
        return self._children.team_members(team_id)

    # -- data --------------------------------------------------------------

    def _table(self, resource: str) -> Table:
        """The current snapshot of ``resource``, generated on first use."""
        return self._tables.table(resource)

    # -- request handling ---------------------------------------------------

    def _respond(self, method: str, raw_path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        """Turn one request into (status, headers, body); never raises."""
        t0 = time.perf_counter()
        path, _, qs = raw_path.partition("?")
        params = dict(parse_qsl(qs, keep_blank_values=True))
        jsm = is_jsm_path(path)
        try:
            reply = self._fault(method, path, params, headers)
            if reply is not None:
                if reply.delay > 0:
                    time.sleep(reply.delay)
                result = _DROPPED if reply.drop else _render(reply, t0, envelope=not jsm)
            elif self.budget is not None and not self.budget.take():
                if jsm:
                    result = throttled_reply(self.budget.period_seconds)
                else:
                    status, _, body = _error(429, THROTTLED_MESSAGE, t0)
                    result = status, self.budget.throttled_headers(), body
            elif jsm:
                result = self._jsm.respond(method, path, qs, headers)
            else:
                result = self._route(method, path, params, headers, t0)
        except Exception as exc:  # surfaced to the client, like an upstream 500
            message = f"Internal error in fake API: {exc!r}"
            result = error_reply(500, message) if jsm else _error(500, message, t0)
        if self.latency > 0:
            time.sleep(self.latency)
        with self._log_lock:
            self._log.append((method, raw_path, result[0]))
        return result

    def _fault(self, method: str, path: str, params: dict[str, str], headers: Any) -> FakeReply | None:
        if not self.faults:
            return None
        request = FakeRequest(method, path, params, headers)
        for fault in list(self.faults):
            reply = fault(request)
            if reply is not None:
                return reply
        return None

    def _authorized(self, headers: Any) -> bool:
        auth = headers.get("Authorization") or ""
        scheme, _, key = auth.strip().partition(" ")
        if scheme.lower() == "geniekey" and key.strip() == self.api_key:
            return True
        return (headers.get("api_key") or "").strip() == self.api_key

    def _route(self, method: str, path: str, params: dict[str, str], headers: Any,
               t0: float) -> tuple[int, dict[str, str], bytes]:
        clean = path.rstrip("/") or "/"
        spec = BY_PATH.get(clean)
        child, identifier = (None, None) if spec is not None else match_child(clean)
        if spec is None and child is None:
            return _error(404, f"Could not find any resource at {path}", t0)
        if method != "GET":
            return _error(405, f"Method {method} is not allowed on {path}", t0)
        if not self._authorized(headers):
            return _error(401, "Could not authenticate", t0)
        try:
            if child is not None:
                return self._child(child, unquote(identifier or ""), params, headers, t0)
            table = self._table(spec.name)  # type: ignore[union-attr]
            if not spec.paginated:  # type: ignore[union-attr]
                return self._whole(spec, table, params, t0)  # type: ignore[arg-type]
            return self._page(spec, table, params, headers, t0)  # type: ignore[arg-type]
        except QueryError as exc:
            return _error(422, str(exc), t0)
        except _NotFound as exc:
            return _error(404, str(exc), t0)

    def _whole(self, spec: Spec, table: Table, params: dict[str, str], t0: float) -> tuple[int, dict[str, str], bytes]:
        """An unpaged list: every record in one body."""
        blobs = table.blobs
        if spec.expand_param:
            expand = [v.strip() for v in params.get("expand", "").split(",") if v.strip()]
            unknown = [v for v in expand if v not in spec.expandable]
            if unknown:
                raise QueryError(f"Invalid expand value {unknown[0]!r}: "
                                 f"possible values are {', '.join(spec.expandable)}")
            if "rotation" not in expand:  # without it, schedules come with no rotations
                blobs = table.derived("without-rotations", lambda: [_without_rotations(b) for b in table.blobs])
        head = b'{"code":200,"data":' if spec.code else b'{"data":'
        if spec.data_key:
            head += b'{"' + spec.data_key.encode() + b'":['
            tail = b"]},"
        else:
            head += b"["
            tail = b"],"
        if spec.expandable:
            tail += b'"expandable":' + encode(list(spec.expandable)).encode() + b","
        return 200, {}, head + b",".join(blobs) + tail + _envelope_tail(t0)

    def _child(self, spec: ChildSpec, identifier: str, params: dict[str, str], headers: Any,
               t0: float) -> tuple[int, dict[str, str], bytes]:
        """An endpoint under one parent record: 422 for a bad parameter, then 404 for an unknown parent."""
        kind = "id"
        if spec.identifier_types:
            kind = params.get("identifierType") or spec.default_identifier_type
            if kind not in spec.identifier_types:
                raise QueryError(f"identifierType should be one of {', '.join(spec.identifier_types)}")
        if spec.paged:
            limit, order, direction, offset = self._timeline_params(spec, params)
        children = self._children
        if spec.parent == "alerts":
            try:
                alert = children.find_alert(identifier, kind)
            except (KeyError, IndexError):
                raise _NotFound(f"Alert with {kind} [{identifier}] does not exist") from None
            timeline = children.timeline(alert)
            if not spec.paged:
                data = b",".join(encode(r).encode() for r in timeline.recipients)
                return 200, {}, b'{"data":[' + data + b"]," + _envelope_tail(t0)
            entries = timeline.logs if spec.name == "alert_logs" else timeline.notes
            page, more = window(entries, offset, direction, order, limit)
            host = headers.get("Host")
            base = (f"http://{host}" if host else self.base_url) + spec.path.replace(
                "{identifier}", quote(identifier, safe=""))
            carry = f"&identifierType={quote(kind)}" if "identifierType" in params else ""
            paging = {"first": f"{base}?direction=next&limit={limit}&order={order}{carry}"}
            if page and more:
                last = quote(page[-1].record["offset"], safe="")
                paging["next"] = f"{base}?offset={last}&direction=next&limit={limit}&order={order}{carry}"
            out_headers = {"X-Paging-" + k.title(): v for k, v in paging.items()}
            body = b"".join((b'{"data":[', b",".join(e.blob for e in page), b'],"paging":',
                             encode(paging).encode(), b",", _envelope_tail(t0)))
            return 200, out_headers, body
        if spec.parent == "users":
            try:
                user = children.find_user(identifier)
            except KeyError:
                raise _NotFound(f"User with identifier [{identifier}] does not exist") from None
            data = encode(children.user_teams(user["id"])).encode()
            return 200, {}, b'{"data":' + data + b"," + _envelope_tail(t0)
        try:
            team = children.find_team(identifier, kind)
        except KeyError:
            raise _NotFound(f"Team with {kind} [{identifier}] does not exist") from None
        team[spec.data_key] = children.team_members(team["id"])
        return 200, {}, b'{"data":' + encode(team).encode() + b"," + _envelope_tail(t0)

    def _timeline_params(self, spec: ChildSpec, params: dict[str, str]) -> tuple[int, str, str, Any]:
        """limit, order, direction and the offset's sort key (None: from the start) of a logs/notes page."""
        limit = _int_param(params, "limit", spec.default_limit)
        if limit < spec.min_limit:
            raise QueryError(f"limit should be at least {spec.min_limit}")
        if limit > spec.max_limit:
            raise QueryError(f"limit should be at most {spec.max_limit}")
        limit = min(limit, self.max_limit)
        order = params.get("order") or spec.default_order
        if order not in spec.orders:
            raise QueryError(f"order should be one of {', '.join(spec.orders)}")
        direction = params.get("direction") or spec.default_direction
        if direction not in spec.directions:
            raise QueryError(f"direction should be one of {', '.join(spec.directions)}")
        raw = params.get("offset", "")
        try:
            offset = parse_offset(raw) if raw else None
        except ValueError:
            raise QueryError(f"Invalid offset {raw!r}: use the offset of an entry already read") from None
        return limit, order, direction, offset

    def _page(self, spec: Spec, table: Table, params: dict[str, str], headers: Any,
              t0: float) -> tuple[int, dict[str, str], bytes]:
        limit = _int_param(params, "limit", spec.default_limit)
        offset = _int_param(params, "offset", 0)
        if limit < 1:
            raise QueryError("limit should be greater than 0")
        if spec.max_limit is not None and limit > spec.max_limit:
            raise QueryError(f"limit should be at most {spec.max_limit}")
        limit = min(limit, self.max_limit)
        sort = params.get(spec.sort_param) or spec.default_sort
        if sort not in spec.sorts:
            raise QueryError(f"Invalid sort field {sort!r}: {spec.sort_param} should be one of {', '.join(spec.sorts)}")
        order = (params.get("order") or spec.default_order).lower()
        if order not in ("asc", "desc"):
            raise QueryError("order should be asc or desc")
        cap = self.offset_cap if spec.capped else None
        if cap is not None and offset + limit > cap:
            raise QueryError(f"Sum of offset and limit should be lower than {cap}")
        query = params.get("query", "").strip() if spec.searchable else ""
        if spec.query_required and self.incident_query_required and not query:
            raise QueryError("query is required")
        search_mode = self.updated_at_search
        terms = parse_query(query, spec.name, search_mode) if query else ()
        field = SORT_FIELDS.get(sort, sort)
        positions = table.cached((query, search_mode, field, order),
                                 lambda: select(table, terms, field, order))
        blobs = table.blobs
        data = b",".join([blobs[i] for i in positions[offset:offset + limit]])
        host = headers.get("Host")
        base = f"http://{host}" if host else self.base_url
        paging = _paging(base, spec, limit, sort, order, query, offset, len(positions), cap)
        out_headers = {"X-Paging-" + k.title(): v for k, v in paging.items()}
        total = b',"totalCount":%d' % len(positions) if spec.total_count else b""
        body = b"".join((b'{"data":[', data, b'],"paging":', encode(paging).encode(),
                         total, b",", _envelope_tail(t0)))
        return 200, out_headers, body

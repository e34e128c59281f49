"""The JSM operations side of the fake: the successor API, on the same server and the same data.

Everything lives under ``/jsm/ops/api/<cloud id>/v1/...`` (the reference's
``https://api.atlassian.com/jsm/ops/api/{cloudId}``), next to the classic ``/v1``/``/v2`` paths at
the root, so one fake serves both and a client can move from one to the other mid-sync. The
operations, their parameters and bounds are :data:`JSM_OPERATIONS`, as the published reference
declares them (a unit test checks them against ``tests/data/jsm_ops_spec_extract.json``); the
records are rendered from the classic ones in :mod:`.jsm_render`.

What the reference leaves open is decided strictly here, or is a switch of the server:

* ``from``/``to`` of List alerts must be int32 numbers and are otherwise ignored (their unit is not
  stated); ``query`` has the classic alerts syntax and obeys the same ``updated_at_search`` switch.
* ``sort=insertedAt`` (the default) orders by ``createdAt``; the 20K ``offset + size`` cap applies to
  List alerts only, the one place the reference states it.
* Alert logs and notes come ascending. A log's ``after`` is the classic offset token of the last
  entry read; a note's ``after`` is the id of the last note read (its token after the ``_``, 19
  digits like the reference's ``1704869443312000050``). Anything else is a 422.
* Schedules carry ``rotations: []`` unless ``expand=rotation``; rotation participants are
  ``{type, id}`` (``noone`` with a null id where the classic side has ``none``).
* ``size`` of List integrations declares no bounds: below 1 is a 422, above the server's
  ``max_limit`` it is clamped. The heartbeat filter is ``name`` (the spec copy), at most 200 long.
* ``links.next`` is relative (``/v1/alerts?offset=20&size=20``, as every schema example: append it
  to the base URL, do not resolve it as a URL reference) unless the server's ``jsm_absolute_links``.
* Auth is HTTP Basic with the account email and the API token only (no GenieKey, no OAuth); a 401
  body is ``UnauthorizedErrorResponse`` ``{code, message}``, every other error ``ErrorResponses``.
* Throttled: 429 with ``Retry-After`` and ``X-RateLimit-Reset`` (the Jira platform's headers).
* Checks run in the classic side's order: cloud id and path (404), method (405), auth (401),
  parameters (422), then the record in the path (404).
* The caller sees everything (an admin): ``/v1/teams`` lists every team. Escalations and heartbeats
  exist per team only, so one without an existing owner team is served nowhere. Classic values
  outside the JSM schema's minimums (a first rule's ``delay`` of 0, a ``repeat.count`` of 0) are
  served as they are: the data is the same on both sides.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, NamedTuple
from urllib.parse import parse_qsl, quote, unquote

from . import jsm_render as render
from .children import OFFSET_RE, parse_offset, window
from .data import encode, iso_ms
from .query import QueryError, parse_query

if TYPE_CHECKING:  # pragma: no cover
    from .server import FakeAnalyticsAPI

#: Where the JSM operations API lives on the fake, before the cloud id.
PREFIX = "/jsm/ops/api/"
#: The fake's default cloud id (a fixed UUID, like a site's).
FAKE_CLOUD_ID = "5a7c2f0e-8f3b-4d2a-9c61-0b1e2d3f4a5b"
#: The warehouse tables the JSM side can fill.
JSM_RESOURCES = ("alerts", "alert_logs", "alert_notes", "teams", "schedules", "escalations", "heartbeats",
                 "integrations")
#: ``code`` of an ``ErrorResponses`` entry per status.
ERROR_CODES = {400: "BAD_REQUEST", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
               422: "UNPROCESSABLE_ENTITY", 429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR"}
UNAUTHORIZED_MESSAGE = "Client must be authenticated to access this resource."
THROTTLED_TITLE = "Rate limit exceeded: too many requests. Retry after the time in Retry-After."

Reply = tuple[int, dict[str, str], bytes]


def is_jsm_path(path: str) -> bool:
    """Whether a request path belongs to the JSM side (its errors take the JSM shapes)."""
    return path == "/jsm" or path.startswith("/jsm/")


def error_reply(status: int, title: str) -> Reply:
    """An ``ErrorResponses`` body: ``{"errors": [{"title", "code"}]}``."""
    return status, {}, encode({"errors": [{"title": title, "code": ERROR_CODES.get(status, str(status))}]}).encode()


def unauthorized_reply() -> Reply:
    """401 with ``UnauthorizedErrorResponse``, the shape every declared 401 of the reference uses."""
    return 401, {}, encode({"code": 401, "message": UNAUTHORIZED_MESSAGE}).encode()


def throttled_reply(period_seconds: int) -> Reply:
    """429 with the Jira platform's rate-limit headers (none of the OpsGenie ``X-RateLimit-*`` ones)."""
    reset = iso_ms(int(time.time() * 1000) + period_seconds * 1000)
    status, _, body = error_reply(429, THROTTLED_TITLE)
    return status, {"Retry-After": str(period_seconds), "X-RateLimit-Reset": reset}, body


# --------------------------------------------------------------------------
# Operations and their parameters, as the reference declares them
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class JsmParam:
    """One query parameter: ``kind`` is ``int``, ``enum``, ``expand`` (a list) or ``string``.

    :param int_format: ``int32`` or ``int64``; a number outside it is a 422.
    :param max_length: longest accepted string (the heartbeat ``name``'s ``maximum: 200``).
    """

    name: str
    kind: str = "string"
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    values: tuple[str, ...] = ()
    int_format: str = "int32"
    required: bool = False
    max_length: int | None = None


@dataclass(frozen=True)
class JsmOperation:
    """One GET operation: its name in the extract, its path (``{id}``-style path parameters) and parameters."""

    name: str
    path: str
    table: str | None
    params: tuple[JsmParam, ...] = ()

    def param(self, name: str) -> JsmParam:
        return next(p for p in self.params if p.name == name)

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(self.path)) + "$")


def _size(default: int | None, maximum: int | None = 100, minimum: int | None = 1,
          int_format: str = "int32") -> JsmParam:
    return JsmParam("size", "int", default, minimum, maximum, int_format=int_format)


_OFFSET = JsmParam("offset", "int", 0, 0)
ALERT_SORTS = ("createdAt", "insertedAt", "lastOccurredAt", "priority")

#: The operations served, in matching order (``/v1/alerts/alias`` before ``/v1/alerts/{id}``).
JSM_OPERATIONS: dict[str, JsmOperation] = {
    op.name: op
    for op in (
        JsmOperation("alerts", "/v1/alerts", "alerts", (
            _size(20), JsmParam("sort", "enum", "insertedAt", values=ALERT_SORTS), _OFFSET,
            JsmParam("order", "enum", "desc", values=("asc", "desc")), JsmParam("query"),
            JsmParam("from", "int"), JsmParam("to", "int"))),
        JsmOperation("alert_by_alias", "/v1/alerts/alias", "alerts", (JsmParam("alias", required=True),)),
        JsmOperation("alert", "/v1/alerts/{id}", "alerts"),
        JsmOperation("alert_logs", "/v1/alerts/{id}/logs", "alert_logs", (JsmParam("after"), _size(20))),
        JsmOperation("alert_notes", "/v1/alerts/{id}/notes", "alert_notes", (JsmParam("after"), _size(20))),
        JsmOperation("teams", "/v1/teams", "teams"),
        JsmOperation("schedules", "/v1/schedules", "schedules", (
            JsmParam("query"), _size(25, 50), _OFFSET, JsmParam("expand", "expand", values=("rotation",)))),
        JsmOperation("escalations", "/v1/teams/{teamId}/escalations", "escalations", (_OFFSET, _size(20))),
        JsmOperation("heartbeats", "/v1/teams/{teamId}/heartbeats", "heartbeats", (
            JsmParam("name", max_length=200), JsmParam("offset", "int", 0, 0, int_format="int64"),
            _size(20, int_format="int64"))),
        JsmOperation("integrations", "/v1/integrations", "integrations", (
            JsmParam("type"), JsmParam("teamId"), JsmParam("name"), _OFFSET, _size(100, None, None))),
    )
}
_PATTERNS = tuple((op.pattern, op) for op in JSM_OPERATIONS.values())
_INT_RANGES = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}
#: A note id: ``ms * 10**6 + seq``, 19 digits, as the reference's example ``1704869443312000050``.
_NOTE_ID_RE = re.compile(r"^\d{19}$")


def match(path: str) -> tuple[JsmOperation, tuple[str, ...]] | tuple[None, tuple[()]]:
    """The operation at ``path`` (below the cloud id) and its still-quoted path parameters."""
    for pattern, op in _PATTERNS:
        m = pattern.match(path)
        if m:
            return op, m.groups()
    return None, ()


def _int(param: JsmParam, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{param.name} should be an integer, got {raw!r}") from None
    low, high = _INT_RANGES[param.int_format]
    if not low <= value <= high:
        raise QueryError(f"{param.name} does not fit in {param.int_format}")
    if param.minimum is not None and value < param.minimum:
        raise QueryError(f"{param.name} should be at least {param.minimum}")
    if param.maximum is not None and value > param.maximum:
        raise QueryError(f"{param.name} should be at most {param.maximum}")
    return value


def parse_params(op: JsmOperation, pairs: list[tuple[str, str]]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validated values of ``op``'s parameters (QueryError: 422), and the ones sent, to carry in links.

    A blank value counts as not sent; a repeated one counts once, the last (``expand``: all of them,
    comma-separated or repeated, as the reference's expansion section says). Undeclared parameters
    are ignored.
    """
    given: dict[str, list[str]] = {}
    for key, value in pairs:
        if value != "":
            given.setdefault(key, []).append(value)
    values: dict[str, Any] = {}
    carry: list[tuple[str, str]] = []
    for p in op.params:
        raws = given.get(p.name, [])
        if p.kind == "expand":
            items = tuple(dict.fromkeys(x.strip() for r in raws for x in r.split(",") if x.strip()))
            unknown = [x for x in items if x not in p.values]
            if unknown:
                raise QueryError(f"Invalid {p.name} value {unknown[0]!r}: possible values are {', '.join(p.values)}")
            values[p.name] = items
            if items:
                carry.append((p.name, ",".join(items)))
            continue
        if not raws:
            if p.required:
                raise QueryError(f"{p.name} is required")
            values[p.name] = p.default
            continue
        raw = raws[-1]
        if p.kind == "int":
            values[p.name] = _int(p, raw)
            carry.append((p.name, str(values[p.name])))
            continue
        if p.kind == "enum" and raw not in p.values:
            raise QueryError(f"Invalid {p.name} {raw!r}: possible values are {', '.join(p.values)}")
        if p.max_length is not None and len(raw) > p.max_length:
            raise QueryError(f"{p.name} should be at most {p.max_length} characters long")
        values[p.name] = raw
        carry.append((p.name, raw))
    return values, carry


class _Missing(LookupError):
    """A record named in the path does not exist: answered with 404."""


class _Call(NamedTuple):
    """One validated request: its operation, unquoted path parameters, parameter values, the
    parameters sent (carried into links) and the request headers."""

    op: JsmOperation
    args: list[str]
    values: dict[str, Any]
    carry: list[tuple[str, str]]
    headers: Any


# --------------------------------------------------------------------------
# The JSM side of one fake
# --------------------------------------------------------------------------


class JsmSide:
    """Answers the JSM paths of one :class:`~.server.FakeAnalyticsAPI` from its tables."""

    def __init__(self, api: "FakeAnalyticsAPI"):
        self.api = api
        self._handlers: dict[str, Callable[[_Call], Reply]] = {
            "alerts": self._alerts, "alert_by_alias": self._alert_by_alias, "alert": self._alert,
            "alert_logs": self._timeline, "alert_notes": self._timeline, "teams": self._teams,
            "schedules": self._schedules, "escalations": self._per_team, "heartbeats": self._per_team,
            "integrations": self._integrations,
        }

    def authorized(self, headers: Any) -> bool:
        """``Authorization: Basic base64(<jsm_email>:<api_key>)``, nothing else."""
        scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            return False
        return decoded == f"{self.api.jsm_email}:{self.api.api_key}"

    def respond(self, method: str, path: str, query_string: str, headers: Any) -> Reply:
        """One request on a JSM path: 404 (cloud id, path), 405, 401, 422, 404 (record), then 200."""
        cloud, _, rest = path[len(PREFIX):].partition("/") if path.startswith(PREFIX) else ("", "", "")
        if not cloud or unquote(cloud) != self.api.cloud_id:
            return error_reply(404, f"No site with the cloud id of {path}")
        op, args = match("/" + rest.rstrip("/"))
        if op is None:
            return error_reply(404, f"No operation at /{rest}")
        if method != "GET":
            return error_reply(405, f"Method {method} is not supported on /{rest}")
        if not self.authorized(headers):
            return unauthorized_reply()
        try:
            values, carry = parse_params(op, parse_qsl(query_string, keep_blank_values=True))
            return self._handlers[op.name](_Call(op, [unquote(a) for a in args], values, carry, headers))
        except QueryError as exc:
            return error_reply(422, str(exc))
        except _Missing as exc:
            return error_reply(404, str(exc))

    def records(self, resource: str) -> list[dict]:
        """Every record of ``resource`` as this side serves it (``FakeAnalyticsAPI.jsm_records``)."""
        if resource not in JSM_RESOURCES:
            raise KeyError(f"not served by the JSM side: {resource!r}; it serves {', '.join(JSM_RESOURCES)}")
        return render.records(self.api._tables, self.api._children, resource)

    # -- links and pages ---------------------------------------------------------

    def _link(self, call: _Call, path: str, pairs: list[tuple[str, str]]) -> str:
        """A link to ``path`` below the cloud id: relative unless ``jsm_absolute_links``."""
        link = path + "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
        if not self.api.jsm_absolute_links:
            return link
        host = call.headers.get("Host")
        base = f"http://{host}{PREFIX}{quote(self.api.cloud_id, safe='')}" if host else self.api.jsm_base_url
        return base + link

    def _offset_link(self, call: _Call, path: str, offset: int, size: int) -> str:
        """A link to another page: ``offset`` and ``size`` first, then every other parameter sent."""
        rest = [(k, v) for k, v in call.carry if k not in ("offset", "size")]
        return self._link(call, path, [("offset", str(offset)), ("size", str(size))] + rest)

    def _page(self, call: _Call, path: str, blobs: list[bytes], previous: bool = False,
              extra: bytes = b"") -> Reply:
        """An offset page of ``blobs``: ``values`` and ``links`` (``next`` only while records follow)."""
        size, offset = min(call.values["size"], self.api.max_limit), call.values["offset"]
        links = {}
        if offset + size < len(blobs):
            links["next"] = self._offset_link(call, path, offset + size, size)
        if previous and offset > 0:
            links["previous"] = self._offset_link(call, path, max(0, offset - size), size)
        data = b",".join(blobs[offset:offset + size])
        if previous:  # the Integrations schema lists links first
            return 200, {}, b'{"links":' + encode(links).encode() + b',"values":[' + data + b"]" + extra + b"}"
        return 200, {}, b'{"values":[' + data + b'],"links":' + encode(links).encode() + extra + b"}"

    # -- alerts ----------------------------------------------------------------

    def _alerts(self, call: _Call) -> Reply:
        api, table, values = self.api, self.api._table("alerts"), call.values
        size, offset, cap = min(values["size"], api.max_limit), values["offset"], api.offset_cap
        if offset + size > cap:
            raise QueryError(f"More than {cap} alerts cannot be retrieved. "
                             f"Sum of offset and size should be lower than {cap}.")
        query = (values["query"] or "").strip()
        mode, sort, order = api.updated_at_search, values["sort"], values["order"]
        terms = parse_query(query, "alerts", mode) if query else ()
        positions = table.cached(("jsm", query, mode, sort, order),
                                 lambda: render.select_alerts(table, terms, sort, order))
        links, nxt = {}, offset + size
        if nxt < len(positions) and nxt + size <= cap:  # no link past the cap: a walk ends there
            links["next"] = self._offset_link(call, call.op.path, nxt, size)
        data = b",".join([render.alert_blob(table, i) for i in positions[offset:nxt]])
        return 200, {}, b"".join((b'{"values":[', data, b'],"count":%d,"links":' % len(positions),
                                  encode(links).encode(), b"}"))

    def _alert(self, call: _Call) -> Reply:
        table = self.api._table("alerts")
        try:
            pos = table.position(call.args[0])
        except KeyError:
            raise _Missing(f"Alert with id [{call.args[0]}] does not exist") from None
        return 200, {}, render.alert_blob(table, pos)

    def _alert_by_alias(self, call: _Call) -> Reply:
        table, alias = self.api._table("alerts"), call.values["alias"]
        pos = table.index("alias").get(alias)
        if pos is None:
            raise _Missing(f"Alert with alias [{alias}] does not exist")
        return 200, {}, render.alert_blob(table, pos)

    def _timeline(self, call: _Call) -> Reply:
        """Logs or notes of one alert, ascending, after the ``after`` key; 422 before 404."""
        stream = "logs" if call.op.name == "alert_logs" else "notes"
        size, after, alert_id = min(call.values["size"], self.api.max_limit), call.values["after"], call.args[0]
        key = None
        if after is not None:
            if stream == "logs" and OFFSET_RE.match(after):
                key = parse_offset(after)
            elif stream == "notes" and _NOTE_ID_RE.match(after):
                key = (int(after) // 1_000_000, int(after))
            else:
                what = "the offset of a log entry" if stream == "logs" else "the id of a note"
                raise QueryError(f"Invalid after {after!r}: use {what} already read")
        children = self.api._children
        try:
            alert = children.find_alert(alert_id)
        except KeyError:
            raise _Missing(f"Alert with id [{alert_id}] does not exist") from None
        timeline = children.timeline(alert)
        page, more = window(timeline.logs if stream == "logs" else timeline.notes, key, "next", "asc", size)
        links = {}
        if page and more:
            last = page[-1].record["offset"]
            cursor = last if stream == "logs" else render.note_id(last)
            links["next"] = self._link(call, f"/v1/alerts/{quote(alert_id, safe='')}/{stream}",
                                       [("after", cursor), ("size", str(size))])
        data = b",".join(render.entry_blob(e, stream) for e in page)
        return 200, {}, b'{"values":[' + data + b'],"links":' + encode(links).encode() + b"}"

    # -- configuration ---------------------------------------------------------

    def _teams(self, call: _Call) -> Reply:
        table = self.api._table("teams")
        return 200, {}, table.derived("jsm:teams-body", lambda: encode(
            {"platformTeams": [t for _, t in render.rendered(table, "teams", render.team)]}).encode())

    def _schedules(self, call: _Call) -> Reply:
        rows = render.rendered(self.api._table("schedules"), "schedules", lambda r: (
            encode(render.schedule(r, True)).encode(), encode(render.schedule(r, False)).encode()))
        expanded, query = "rotation" in call.values["expand"], call.values["query"]
        blobs = [pair[0] if expanded else pair[1] for row, pair in rows if render.name_matches(row.get("name"), query)]
        return self._page(call, call.op.path, blobs,
                          extra=b',"_expands":' + encode(list(call.op.param("expand").values)).encode())

    def _per_team(self, call: _Call) -> Reply:
        """Escalations or heartbeats of the team in the path (heartbeats: by ``name`` too); 404 for no team."""
        team_id = call.args[0]
        try:
            self.api._table("teams").position(team_id)
        except KeyError:
            raise _Missing(f"Team with id [{team_id}] does not exist") from None
        name = call.values.get("name")
        blobs = [b for team, row, b in render.by_team(self.api._table(call.op.name), call.op.name)
                 if team == team_id and (name is None or row.get("name") == name)]
        return self._page(call, call.op.path.replace("{teamId}", quote(team_id, safe="")), blobs)

    def _integrations(self, call: _Call) -> Reply:
        if call.values["size"] < 1:  # no minimum declared, but a page of nothing never advances
            raise QueryError("size should be at least 1")
        rows = render.rendered(self.api._table("integrations"), "integrations-blobs", render.blob(render.integration))
        wanted = {k: call.values[k] for k in ("type", "teamId", "name") if call.values[k] is not None}
        blobs = [b for row, b in rows if all(row.get(k) == v for k, v in wanted.items())]
        return self._page(call, call.op.path, blobs, previous=True)

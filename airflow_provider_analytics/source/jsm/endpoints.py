"""Where each resource lives on the successor API and how its records differ: data, not code.

Every fact here comes from the published reference of the Jira Service Management operations
REST API (docs/jsm.md lists each one and its source). A resource absent from `ENDPOINTS` has no
counterpart there and is named in `UNSUPPORTED` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The host whose connections speak the successor API unless the connection says otherwise.
JSM_HOST = "api.atlassian.com"
#: The path every operation lives under ("URL format" in the reference); `{cloud_id}` is the site's.
JSM_BASE_PATH = "/jsm/ops/api/{cloud_id}"
#: Where a site's cloud id is published (the Automation API's "base paths" page).
CLOUD_ID_LOOKUP = "https://<your-site>.atlassian.net/_edge/tenant_info"
#: The connection test asks for one alert (`size=1`): scope read:ops-alert, what alert syncs need.
PROBE_PATH = "/v1/alerts"
PROBE_PARAMS = {"size": 1}
#: The classic paging parameter -> the successor's name for it.
PARAM_NAMES = {"limit": "size"}


@dataclass(frozen=True)
class Endpoint:
    """One list operation of the successor API, and how its records map onto the classic table.

    :param path: the operation's path under the base URL; `{id}` is a parent record's id.
    :param paginated: lists in pages (`offset`, `size`, `links.next`); else one response holds all.
    :param max_size: the largest `size` the operation accepts (the page size is cut to it).
    :param records_key: where the body keeps the records (`values`; teams: `platformTeams`).
    :param renames: the successor's field -> the classic column's dotted path (`teamId` -> `id`,
        `integrationName` -> `integration.name`); a field not named keeps its name.
    :param lowercase: fields whose values the successor capitalises (`Days`) and the classic does not.
    :param derived_key: how a record's classic key is made where the successor has none
        (`note_offset`, `log_offset`; see `records.py`).
    :param per_team: listed per team (`/v1/teams/{id}/...`); every record gets its team as `ownerTeam`.
    :param fixed_params: query parameters every request sends.
    """

    path: str
    paginated: bool = True
    max_size: int = 100
    records_key: str = "values"
    renames: dict[str, str] = field(default_factory=dict)
    lowercase: tuple[str, ...] = ()
    derived_key: str | None = None
    per_team: bool = False
    fixed_params: tuple[tuple[str, str], ...] = ()


ENDPOINTS: dict[str, Endpoint] = {
    "alerts": Endpoint(
        "/v1/alerts",
        renames={"seen": "isSeen", "integrationType": "integration.type", "integrationName": "integration.name"},
    ),
    "alert_logs": Endpoint("/v1/alerts/{id}/logs", renames={"logTime": "createdAt", "logType": "type"},
                           derived_key="log_offset"),
    "alert_notes": Endpoint("/v1/alerts/{id}/notes", derived_key="note_offset"),
    "teams": Endpoint("/v1/teams", paginated=False, records_key="platformTeams",
                      renames={"teamId": "id", "teamName": "name"}),
    "schedules": Endpoint("/v1/schedules", max_size=50, renames={"teamId": "ownerTeam.id"},
                          fixed_params=(("expand", "rotation"),)),
    "escalations": Endpoint("/v1/teams/{id}/escalations", per_team=True),
    "heartbeats": Endpoint("/v1/teams/{id}/heartbeats", per_team=True, renames={"ownerTeamId": "ownerTeam.id"},
                           lowercase=("intervalUnit",)),
    "integrations": Endpoint("/v1/integrations"),
}

_NO_COUNTERPART = "the Jira Service Management operations API has no operation that lists {what}"
UNSUPPORTED: dict[str, str] = {
    "users": _NO_COUNTERPART.format(what="users (only the caller's own contact methods)"),
    "services": _NO_COUNTERPART.format(what="services"),
    "incidents": _NO_COUNTERPART.format(what="incidents (the separate Incident API, in beta, fetches one by id)"),
    "alert_recipients": _NO_COUNTERPART.format(what="an alert's recipients"),
    "user_teams": _NO_COUNTERPART.format(what="a user's teams"),
    "team_members": _NO_COUNTERPART.format(what="a team's members"),
}

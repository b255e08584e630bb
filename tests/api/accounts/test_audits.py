"""Central's `GET /v1/audits`: the log newest first in Central's shape
(plain and extended), who may read it, and Central's filters: an action, an
action category (`user`, `project`, `form`, `field_key`, `submission`),
`nonverbose`, `start` (inclusive) and `end` (exclusive), `limit` and
`offset`; every bad value with Central's problem code."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from app.db.models import AuditLog
from tests.api.accounts.conftest import assert_actor, is_iso

AUDIT_KEYS = {"actorId", "action", "acteeId", "details", "loggedAt"}
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
EXTENDED = {"X-Extended-Metadata": "true"}
# What the seeded world logs: the project, the administrator and their
# role, the form, the tablet and its role, then the administrator's session.
SEEDED = [
    "user.session.create",
    "field_key.assignment.create",
    "field_key.create",
    "form.create",
    "user.assignment.create",
    "user.create",
    "project.create",
]


def log(runtime, action: str, when: datetime | None = None, **fields: Any) -> None:  # type: ignore[no-untyped-def]
    """An entry as a service would write it, at `when` if given."""
    with runtime.db.transaction() as session:
        entry = AuditLog(action=action, details=fields.pop("details", {}), **fields)
        if when is not None:
            entry.created_at = when
        session.add(entry)


def day(n: int, hour: int = 0) -> datetime:
    return datetime(2000, 1, n, hour, tzinfo=UTC)


def listed(client, headers, query: str = "") -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    response = client.get(f"/v1/audits{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def names(entries: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [entry["action"] for entry in entries]


@pytest.fixture
def ten_days(runtime, seeded) -> None:  # type: ignore[no-untyped-def]
    """`test.1` … `test.10` logged at midnight UTC of 2000-01-01 … 10."""
    for n in range(1, 11):
        log(runtime, f"test.{n}", day(n))


# --- Shape ----------------------------------------------------------------------------


def test_the_log_is_centrals_audits_newest_first(client, seeded, admin_headers):
    response = client.get("/v1/audits", headers=admin_headers)

    assert response.status_code == 200
    entries = response.get_json()
    assert names(entries) == SEEDED
    for entry in entries:
        assert set(entry) == AUDIT_KEYS
        assert isinstance(entry["action"], str)
        assert entry["actorId"] is None or isinstance(entry["actorId"], int)
        assert entry["acteeId"] is None or UUID4.match(entry["acteeId"])
        assert entry["details"] is None or isinstance(entry["details"], dict)
        assert is_iso(entry["loggedAt"])
    stamps = [entry["loggedAt"] for entry in entries]
    assert stamps == sorted(stamps, reverse=True)
    session = entries[0]
    assert session["actorId"] == seeded.admin_id
    assert session["acteeId"] == entries[-2]["acteeId"]  # both act on the admin


def test_a_new_user_shows_first_as_centrals_user_create(client, seeded, admin_headers):
    created = client.post(
        "/v1/users",
        json={"email": "david@cdp.example", "displayName": "david"},
        headers=admin_headers,
    ).get_json()

    entries = listed(client, {**admin_headers, **EXTENDED})

    assert names(entries)[:2] == ["user.create", "user.session.create"]
    newest = entries[0]
    assert set(newest) == AUDIT_KEYS | {"actor", "actee"}
    assert newest["actorId"] == seeded.admin_id
    assert_actor(newest["actor"])
    assert newest["actor"]["id"] == seeded.admin_id
    assert_actor(newest["actee"])
    assert newest["actee"]["id"] == created["id"]
    assert newest["actee"]["displayName"] == "david"


def test_extended_entries_name_projects_and_forms_as_actees(
    client, seeded, admin_headers
):
    entries = listed(client, {**admin_headers, **EXTENDED})

    project = next(e for e in entries if e["action"] == "project.create")
    form = next(e for e in entries if e["action"] == "form.create")
    assert project["actee"]["id"] == seeded.project_id
    assert project["actee"]["name"] == "CdP Chipaya"
    assert {"archived", "keyId", "createdAt", "deletedAt"} <= set(project["actee"])
    assert form["actee"]["xmlFormId"] == "encuesta"
    assert form["actee"]["projectId"] == seeded.project_id
    assert form["actee"]["deletedAt"] is None


def test_an_entry_without_actor_or_actee_has_them_null(
    client, runtime, seeded, admin_headers
):
    log(runtime, "analytics")

    [entry] = listed(client, {**admin_headers, **EXTENDED}, "?action=analytics")

    assert entry["actor"] is None and entry["actorId"] is None
    assert entry["actee"] is None and entry["acteeId"] is None


def test_a_deleted_users_actee_carries_its_deletion(
    client, seeded, admin_headers, person, user_id
):
    person("ana", None)
    ana_id = user_id("ana")
    client.delete(f"/v1/users/{ana_id}", headers=admin_headers)

    [entry] = listed(client, {**admin_headers, **EXTENDED}, "?action=user.delete")

    assert entry["actee"]["id"] == ana_id
    assert is_iso(entry["actee"]["deletedAt"])
    assert entry["actorId"] == seeded.admin_id


# --- Who may read it ------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "manager", "analyst", "guardian"])
def test_only_the_administrator_reads_the_log(client, seeded, person, role):
    headers = person("ana", role, ayllu="Manazaya" if role == "guardian" else None)

    response = client.get("/v1/audits", headers=headers)

    assert response.status_code == 403
    assert response.get_json()["code"] == 403.1


def test_the_log_needs_credentials_and_is_closed_to_tablets(client, seeded):
    anonymous = client.get("/v1/audits")
    tablet = client.get(f"/v1/key/{seeded.token}/audits")

    assert anonymous.status_code == 401
    assert anonymous.get_json()["code"] == 401.2
    assert tablet.status_code == 403
    assert tablet.get_json()["code"] == 403.1


# --- Filter by action -----------------------------------------------------------------


def test_filtering_by_one_action(client, seeded, admin_headers):
    client.post("/v1/users", json={"email": "david@cdp.example"}, headers=admin_headers)

    entries = listed(client, admin_headers, "?action=form.create")

    assert names(entries) == ["form.create"]
    assert listed(client, admin_headers, "?action=nada.de.esto") == []


def test_the_user_category_has_every_account_event(client, seeded, admin_headers):
    david = client.post(
        "/v1/users", json={"email": "david@cdp.example"}, headers=admin_headers
    ).get_json()["id"]
    client.patch(
        f"/v1/users/{david}", json={"displayName": "David"}, headers=admin_headers
    )
    client.post(f"/v1/assignments/admin/{david}", headers=admin_headers)
    client.delete(f"/v1/assignments/admin/{david}", headers=admin_headers)
    client.delete(f"/v1/users/{david}", headers=admin_headers)
    client.post("/v1/projects", json={"name": "Otro"}, headers=admin_headers)

    entries = listed(client, admin_headers, "?action=user")

    assert names(entries) == [
        "user.delete",
        "user.assignment.delete",
        "user.assignment.create",
        "user.update",
        "user.create",
        "user.session.create",
        "user.assignment.create",
        "user.create",
    ]


def test_the_project_category(client, seeded, admin_headers):
    created = client.post(
        "/v1/projects", json={"name": "Otro"}, headers=admin_headers
    ).get_json()["id"]
    client.patch(
        f"/v1/projects/{created}", json={"name": "Otro más"}, headers=admin_headers
    )
    client.delete(f"/v1/projects/{created}", headers=admin_headers)
    client.post("/v1/users", json={"email": "david@cdp.example"}, headers=admin_headers)

    entries = listed(client, admin_headers, "?action=project")

    assert names(entries) == [
        "project.delete",
        "project.update",
        "project.create",
        "project.create",
    ]


def test_the_form_and_field_key_categories(client, runtime, seeded, admin_headers):
    log(runtime, "form.new_version", target_type="form", target_id="1/encuesta")
    log(runtime, "form.state", target_type="form", target_id="1/encuesta")

    forms = listed(client, admin_headers, "?action=form")
    keys = listed(client, admin_headers, "?action=field_key")

    assert names(forms) == ["form.update", "form.update.publish", "form.create"]
    assert names(keys) == ["field_key.assignment.create", "field_key.create"]


def test_the_submission_category_and_nonverbose(client, runtime, seeded, admin_headers):
    log(runtime, "submission.create", target_type="submission", target_id="7")
    log(
        runtime,
        "submission.update.review_state",
        target_type="submission",
        target_id="7",
        details={"reviewState": "approved"},
    )
    log(runtime, "submission.update", target_type="submission", target_id="7")
    log(
        runtime,
        "submission.update.access_level",
        target_type="submission",
        target_id="7",
    )
    log(runtime, "backup", details={"success": True})
    log(runtime, "analytics")

    submissions = listed(client, admin_headers, "?action=submission")
    reviews = listed(client, admin_headers, "?action=submission.update")
    nonverbose = listed(client, admin_headers, "?action=nonverbose")

    assert names(submissions) == [
        "submission.update.access_level",
        "submission.update.version",
        "submission.update",
        "submission.create",
    ]
    assert names(reviews) == ["submission.update"]
    assert reviews[0]["details"]["reviewState"] == "approved"
    assert reviews[0]["details"]["submissionId"] == 7
    assert names(nonverbose) == ["submission.update.access_level", *SEEDED]


# --- Filter by date -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?start=2000-01-08Z", ["test.10", "test.9", "test.8"]),
        ("?start=2000-01-08", ["test.10", "test.9", "test.8"]),
        ("?start=2000-01-08T12:00Z", ["test.10", "test.9"]),
        ("?start=2000-01-08T00:00:00.000Z", ["test.10", "test.9", "test.8"]),
        ("?start=2000-01-08T00:00-04:00", ["test.10", "test.9"]),
        ("?start=2000-01-08%2B08", ["test.10", "test.9", "test.8"]),
    ],
)
def test_start_is_inclusive(client, seeded, admin_headers, ten_days, query, expected):
    entries = listed(client, admin_headers, query)

    assert names(entries) == [*SEEDED, *expected]
    assert (
        entries[len(SEEDED)]["loggedAt"]
        == f"2000-01-{expected[0][5:]:0>2}T00:00:00.000Z"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?end=2000-01-04Z", ["test.3", "test.2", "test.1"]),
        ("?end=2000-01-02T12:00Z", ["test.2", "test.1"]),
        ("?end=2000-01-01", []),
        ("?start=2000-01-03&end=2000-01-05", ["test.4", "test.3"]),
        ("?start=2000-01-05&end=2000-01-03", []),
    ],
)
def test_end_is_exclusive(client, seeded, admin_headers, ten_days, query, expected):
    assert names(listed(client, admin_headers, query)) == expected


def test_dates_and_actions_combine_and_extend(client, runtime, seeded, admin_headers):
    log(runtime, "test.alice", day(9), actor_user_id=seeded.admin_id,
        target_type="user", target_id=str(seeded.admin_id))  # fmt: skip
    log(runtime, "test.alice", day(2), actor_user_id=seeded.admin_id)

    entries = listed(
        client, {**admin_headers, **EXTENDED}, "?action=test.alice&start=2000-01-08"
    )

    [entry] = entries
    assert entry["loggedAt"] == "2000-01-09T00:00:00.000Z"
    assert entry["actor"]["id"] == entry["actee"]["id"] == seeded.admin_id


@pytest.mark.parametrize(
    "query",
    [
        "?start=ayer",
        "?start=2000-13-01",
        "?end=2000-01-01T25:00Z",
        "?end=01/02/2000",
    ],
)
def test_a_date_that_is_not_iso_is_400(client, seeded, admin_headers, query):
    response = client.get(f"/v1/audits{query}", headers=admin_headers)

    assert response.status_code == 400
    assert response.get_json()["code"] == 400.8


# --- Paging ---------------------------------------------------------------------------


def test_limit_and_offset_page_the_log(client, seeded, admin_headers, ten_days):
    everything = names(listed(client, admin_headers))

    assert names(listed(client, admin_headers, "?limit=1")) == everything[:1]
    assert names(listed(client, admin_headers, "?offset=1&limit=1")) == everything[1:2]
    assert names(listed(client, admin_headers, "?offset=15")) == everything[15:]
    assert names(listed(client, admin_headers, "?limit=0")) == []
    assert listed(client, admin_headers, "?offset=100") == []
    paged = listed(
        client, {**admin_headers, **EXTENDED}, "?action=test.7&offset=0&limit=5"
    )
    assert names(paged) == ["test.7"]
    assert paged[0]["actor"] is None


@pytest.mark.parametrize(
    "query",
    ["?limit=abc", "?limit=-1", "?offset=1.5", "?offset=%EF%BC%91", "?limit=1e3"],
)
def test_limit_and_offset_must_be_whole_numbers(client, seeded, admin_headers, query):
    response = client.get(f"/v1/audits{query}", headers=admin_headers)

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400.11
    assert body["details"]["expected"] == "integer"


def test_reading_the_log_writes_nothing(client, seeded, admin_headers, stored):
    before = stored()

    listed(client, {**admin_headers, **EXTENDED}, "?action=user&limit=3")

    assert stored() == before


def test_an_app_users_grant_is_logged_on_the_tablet(
    client, seeded, admin_headers, app_user_id
):
    client.post(
        f"/v1/projects/{seeded.project_id}/forms/encuesta/assignments/app-user/{app_user_id}",
        headers=admin_headers,
    )

    entries = listed(
        client, {**admin_headers, **EXTENDED}, "?action=field_key.assignment.create"
    )

    newest = entries[0]
    assert newest["actorId"] == seeded.admin_id
    assert newest["actee"]["type"] == "field_key"
    assert newest["actee"]["id"] == app_user_id
    assert newest["details"]["roleId"] == 2
    assert UUID4.match(newest["details"]["grantedActeeId"])
    assert_actor(newest["actor"])

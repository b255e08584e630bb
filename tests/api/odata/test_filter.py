"""`$filter` on the feed: Central's subset on `__id` and `__system/…` (and
Ayni's `deviceId`), with `and`/`or`/`not`, comparisons and the date
functions; what Central refuses is refused with its codes."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.odata.support import document, problem_code, review, svc


def _ids(client, meetings, expression: str, **more: str) -> list[str]:  # type: ignore[no-untyped-def]
    body = document(
        client,
        meetings.analyst,
        svc(meetings.project_id) + "/Submissions",
        **{"$filter": expression, "$count": "true", **more},
    )
    ids = [row["__id"] for row in body["value"]]
    assert body["@odata.count"] == len(ids), expression
    return ids


def test_each_class_of_filter_selects_the_right_records(client, meetings):
    first, second, third = meetings.ids
    review(client, meetings.admin, meetings.project_id, first, "rejected")
    review(client, meetings.admin, meetings.project_id, second, "approved")
    year = datetime.now(UTC).year
    cases = {
        # comparisons on each field
        f"__id eq '{second}'": [second],
        f"__id ne '{second}'": [third, first],
        "__system/reviewState eq 'rejected'": [first],
        "__system/reviewState eq null": [third],
        f"__system/submitterId eq {meetings.admin_id}": [third, second, first],
        f"__system/submitterId eq {meetings.admin_id + 100}": [],
        "__system/deviceId eq 'collect:mesa'": [third, second, first],
        "__system/submissionDate lt 2000-01-01": [],
        "__system/submissionDate gt 2000-01-01T00:00:00Z": [third, second, first],
        "__system/updatedAt eq null": [third],
        "__system/deletedAt eq null": [third, second, first],
        # boolean operators and parentheses
        "not __system/reviewState eq 'rejected'": [third, second],
        "__system/reviewState eq 'rejected' or __system/reviewState eq 'approved'": [
            second,
            first,
        ],
        f"(__id eq '{first}' or __id eq '{third}') and __system/reviewState eq null": [
            third
        ],
        # Central's functions
        f"year(__system/submissionDate) eq {year}": [third, second, first],
        f"year(__system/submissionDate) lt {year}": [],
        "month(__system/submissionDate) ge 1 and day(__system/submissionDate) le 31": [
            third,
            second,
            first,
        ],
        "hour(__system/submissionDate) lt 24 and minute(__system/submissionDate) "
        "lt 60 and second(__system/submissionDate) lt 60": [third, second, first],
        "__system/submissionDate le now()": [third, second, first],
        "__system/submissionDate gt now()": [],
    }
    for expression, expected in cases.items():
        assert _ids(client, meetings, expression) == expected, expression


def test_filter_pages_carry_the_filter_in_the_next_link(client, meetings):
    _first, second, third = meetings.ids
    review(client, meetings.admin, meetings.project_id, second, "rejected")
    body = document(
        client,
        meetings.analyst,
        svc(meetings.project_id) + "/Submissions",
        **{"$filter": "not __system/reviewState eq 'rejected'", "$top": "1"},
    )
    assert [row["__id"] for row in body["value"]] == [third]
    assert (
        "%24filter=not+__system%2FreviewState+eq+%27rejected%27"
        in (body["@odata.nextLink"])
    )


def test_deleted_records_only_when_the_filter_asks_for_them(client, meetings):
    first, _second, _third = meetings.ids
    deleted = client.delete(
        f"/v1/projects/{meetings.project_id}/forms/reunion_cdp/submissions/{first}",
        headers=meetings.admin,
    )
    assert deleted.status_code == 200, deleted.get_data(as_text=True)
    assert first not in _ids(client, meetings, "__system/submitterId ne 0")
    assert _ids(client, meetings, "__system/deletedAt ne null") == [first]
    body = document(
        client,
        meetings.analyst,
        svc(meetings.project_id) + "/Submissions",
        **{"$filter": f"__id eq '{first}' and not __system/deletedAt eq null"},
    )
    assert body["value"][0]["__system"]["deletedAt"].endswith("Z")


def test_filters_central_does_not_run_are_refused_with_its_codes(client, meetings):
    url = svc(meetings.project_id) + "/Submissions"
    cases = {
        "temas eq 'Riego'": 501.5,  # a form field
        "__system/submitterName eq 'x'": 501.5,
        "contains(__id, 'uuid')": 501.4,  # a function Central does not run
        "__system/submitterId add 1 eq 2": 501.4,  # arithmetic
        "__id eq": 400.18,  # does not parse
        "__id EQ 'x'": 400.18,  # operators are lower case
        "__system/reviewState eq 'rejected' and": 400.18,
    }
    for expression, code in cases.items():
        response = client.get(
            url, headers=meetings.analyst, query_string={"$filter": expression}
        )
        assert response.status_code == int(code), expression
        assert problem_code(response) == code, expression


def test_repeat_tables_filter_on_the_root_record(client, meetings):
    _first, second, _third = meetings.ids
    review(client, meetings.admin, meetings.project_id, second, "approved")
    table = svc(meetings.project_id) + "/Submissions.asistentes"
    body = document(
        client,
        meetings.analyst,
        table,
        **{"$filter": "$root/Submissions/__system/reviewState eq 'approved'"},
    )
    assert {row["__Submissions-id"] for row in body["value"]} == {second}
    bare = client.get(
        table,
        headers=meetings.analyst,
        query_string={"$filter": "__system/reviewState eq 'approved'"},
    )
    assert bare.status_code == 501 and problem_code(bare) == 501.5

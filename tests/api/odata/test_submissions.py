"""The `Submissions` table: Central's row shape, paging with `$top`, `$skip`,
`@odata.nextLink` and `$skiptoken`, `$count`, `$select`, `$expand`, `$wkt`
and `$orderby` (`test/integration/api/odata.js`)."""

from __future__ import annotations

from tests.api.odata.support import (
    document,
    follow,
    problem_code,
    review,
    skiptoken_of,
    svc,
)

SYSTEM_KEYS = [
    "submissionDate",
    "updatedAt",
    "submitterId",
    "submitterName",
    "attachmentsPresent",
    "attachmentsExpected",
    "status",
    "reviewState",
    "deviceId",
    "edits",
    "formVersion",
    "deletedAt",
]


def test_rows_have_centrals_shape(client, meetings):
    url = svc(meetings.project_id) + "/Submissions"
    response = client.get(url, headers=meetings.analyst)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["OData-Version"] == "4.0"
    text = response.get_data(as_text=True)
    assert text.startswith('{"value":[{')  # rows first, as Central writes them
    body = response.get_json()
    assert list(body) == ["value", "@odata.context"]
    assert body["@odata.context"] == (
        f"http://localhost{svc(meetings.project_id)}/$metadata#Submissions"
    )
    assert [row["__id"] for row in body["value"]] == meetings.newest_first
    row = body["value"][0]
    system = row["__system"]
    assert list(system) == SYSTEM_KEYS
    assert system["submitterId"] == str(meetings.admin_id)
    assert system["submitterName"]
    assert system["deviceId"] == "collect:mesa"
    assert system["reviewState"] is None
    assert system["edits"] == 0
    assert system["formVersion"] == "2026112401"
    assert system["deletedAt"] is None
    assert system["attachmentsExpected"] == 5
    assert system["attachmentsPresent"] == 0
    assert system["submissionDate"].endswith("Z")
    assert row["temas"] == "Tejidos"
    assert row["lugar"]["ayllu"] == "aransaya"
    assert row["lugar"]["ubicacion"] == {
        "type": "Point",
        "coordinates": [-68.0843, -19.0412, 3650],
        "properties": {"accuracy": 5},
    }
    assert row["meta"]["instanceID"] == row["__id"]
    iid = row["__id"]
    assert row["asistentes@odata.navigationLink"] == (
        f"Submissions('{iid.replace(':', '%3A')}')/asistentes"
    )
    assert "asistentes" not in row  # inline only with $expand=*


def test_pages_follow_next_links_to_the_end(client, meetings):
    url = svc(meetings.project_id) + "/Submissions"
    first = document(client, meetings.analyst, url, **{"$top": "2", "$count": "true"})
    assert [r["__id"] for r in first["value"]] == meetings.newest_first[:2]
    assert first["@odata.count"] == 3
    link = first["@odata.nextLink"]
    assert link.startswith(
        f"http://localhost{url}?%24top=2&%24count=true&%24skiptoken=01"
    )
    assert skiptoken_of(link) == {"instanceId": meetings.newest_first[1]}
    second = follow(client, meetings.analyst, link)
    assert [r["__id"] for r in second["value"]] == meetings.newest_first[2:]
    assert second["@odata.count"] == 3  # the count ignores the cursor
    assert "@odata.nextLink" not in second
    skipped = document(client, meetings.analyst, url, **{"$top": "1", "$skip": "1"})
    assert [r["__id"] for r in skipped["value"]] == meetings.newest_first[1:2]
    # The link drops $skip; $skip beside a $skiptoken is ignored.
    assert "skip=" not in skipped["@odata.nextLink"].replace("skiptoken", "")
    rest = follow(client, meetings.analyst, skipped["@odata.nextLink"] + "&%24skip=1")
    assert [r["__id"] for r in rest["value"]] == meetings.newest_first[2:]


def test_top_zero_and_count_alone(client, meetings):
    url = svc(meetings.project_id) + "/Submissions"
    counted = document(client, meetings.analyst, url, **{"$top": "0", "$count": "true"})
    assert counted["value"] == [] and counted["@odata.count"] == 3
    assert "@odata.nextLink" not in counted
    bare = document(client, meetings.analyst, url, **{"$top": "0"})
    assert list(bare) == ["value", "@odata.context"] and bare["value"] == []
    everything = document(client, meetings.analyst, url, **{"$count": "TRUE"})
    assert everything["@odata.count"] == 3 and len(everything["value"]) == 3


def test_a_skiptoken_of_a_missing_record_gives_no_rows(client, meetings):
    from app.odata.options import encode_skiptoken

    url = svc(meetings.project_id) + "/Submissions"
    token = encode_skiptoken({"instanceId": "uuid:no-existe"})
    empty = document(client, meetings.analyst, url, **{"$skiptoken": token})
    assert empty["value"] == []


def test_bad_paging_options_get_centrals_problems(client, meetings):
    url = svc(meetings.project_id) + "/Submissions"
    cases = [
        ({"$top": "diez"}, 400.11),
        ({"$top": "-1"}, 400.8),
        ({"$skip": "99999999999999999999"}, 400.22),
        ({"$skiptoken": "02abc"}, 400.35),
        ({"$skiptoken": "01bm90LWpzb24"}, 400.35),
        ({"$skiptoken": "01" + "eyJyZXBlYXRJZCI6ImEifQ=="}, 400.35),  # repeatId
        ({"$select": "no_existe"}, 400.23),
        ({"$select": "asistentes/nombre"}, 400.24),
    ]
    for query, code in cases:
        response = client.get(url, headers=meetings.analyst, query_string=query)
        assert response.status_code == int(code), (query, response.get_data())
        assert problem_code(response) == code, query
    unknown = client.get(svc(meetings.project_id) + "/Nada", headers=meetings.analyst)
    assert unknown.status_code == 404 and problem_code(unknown) == 404.1
    group = client.get(
        svc(meetings.project_id) + "/Submissions.lugar", headers=meetings.analyst
    )
    assert group.status_code == 404  # a group is no table


def test_select_keeps_the_named_properties_and_their_groups(client, meetings):
    url = svc(meetings.project_id) + "/Submissions"
    body = document(
        client,
        meetings.analyst,
        url,
        **{"$select": "temas,lugar/ayllu,__id,__system/reviewState", "$top": "1"},
    )
    assert body["value"] == [
        {
            "lugar": {"ayllu": "aransaya"},
            "temas": "Tejidos",
            "__id": meetings.newest_first[0],
            "__system": {"reviewState": None},
        }
    ]
    assert "%24select=temas%2Clugar%2Fayllu" in body["@odata.nextLink"]
    group = document(client, meetings.analyst, url, **{"$select": "intercambio"})
    assert set(group["value"][0]) == {"intercambio"}
    assert "tema_intercambio" in group["value"][0]["intercambio"]


def test_expand_puts_repeat_entries_inline_and_wkt_writes_text(client, meetings):
    url = svc(meetings.project_id) + "/Submissions"
    body = document(client, meetings.analyst, url, **{"$expand": "*", "$top": "1"})
    row = body["value"][0]
    people = row["asistentes"]
    assert len(people) == 3
    assert people[0]["nombre"].startswith("asistentes/nombre#1")
    assert len(people[0]["__id"]) == 40  # Central's join id: a SHA-1
    assert "__Submissions-id" not in people[0]
    assert row["asistentes@odata.navigationLink"].endswith("/asistentes")
    wkt = document(client, meetings.analyst, url, **{"$wkt": "true", "$top": "1"})
    assert wkt["value"][0]["lugar"]["ubicacion"] == "POINT (-68.0843 -19.0412 3650)"


def test_orderby_sorts_on_metadata_with_nulls_first(client, meetings):
    first, second, third = meetings.ids
    review(client, meetings.admin, meetings.project_id, first, "rejected")
    review(client, meetings.admin, meetings.project_id, third, "approved")
    url = svc(meetings.project_id) + "/Submissions"
    up = document(client, meetings.analyst, url, **{"$orderby": "__system/reviewState"})
    assert [r["__id"] for r in up["value"]] == [second, third, first]
    down = document(
        client, meetings.analyst, url, **{"$orderby": "__system/reviewState desc"}
    )
    assert [r["__id"] for r in down["value"]] == [first, third, second]
    oldest = document(
        client,
        meetings.analyst,
        url,
        **{"$orderby": "__system/submissionDate asc", "$top": "2"},
    )
    assert [r["__id"] for r in oldest["value"]] == [first, second]
    # An ordered page goes on with $skip: a $skiptoken cannot follow $orderby.
    rest = follow(client, meetings.analyst, oldest["@odata.nextLink"])
    assert [r["__id"] for r in rest["value"]] == [third]
    token = skiptoken_of(
        document(client, meetings.analyst, url, **{"$top": "1"})["@odata.nextLink"]
    )
    assert token == {"instanceId": third}
    from app.odata.options import encode_skiptoken

    both = client.get(
        url,
        headers=meetings.analyst,
        query_string={
            "$orderby": "__system/submitterId",
            "$skiptoken": encode_skiptoken(token),
        },
    )
    assert both.status_code == 501 and problem_code(both) == 501.1
    assert both.get_json()["message"] == (
        "The requested feature using $orderby and $skiptoken together is not "
        "supported by this server."
    )
    wrong = client.get(
        url, headers=meetings.analyst, query_string={"$orderby": "temas"}
    )
    assert wrong.status_code == 501 and problem_code(wrong) == 501.5

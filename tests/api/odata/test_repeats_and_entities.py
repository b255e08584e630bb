"""A repeat's table (`Submissions.<repeat>`) and one entity
(`Submissions('<instanceID>')` and the repeats under it), paged as Central
pages them: rows counted after the records, `$skiptoken` naming a row."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.odata.support import document, follow, problem_code, skiptoken_of, svc


def test_repeat_table_rows_carry_their_record_and_their_own_id(client, meetings):
    table = svc(meetings.project_id) + "/Submissions.asistentes"
    body = document(client, meetings.analyst, table, **{"$count": "true"})
    assert body["@odata.context"].endswith("/$metadata#Submissions.asistentes")
    assert body["@odata.count"] == 9
    rows = body["value"]
    assert [row["__Submissions-id"] for row in rows] == [
        iid for iid in meetings.newest_first for _ in range(3)
    ]
    assert len({row["__id"] for row in rows}) == 9
    assert list(rows[0])[:2] == ["nombre", "sexo"]
    assert rows[0]["nombre"].startswith("asistentes/nombre#1")
    # The same ids as the entries inlined by $expand=*.
    expanded = document(
        client,
        meetings.analyst,
        svc(meetings.project_id) + "/Submissions",
        **{"$expand": "*", "$top": "1"},
    )
    assert [e["__id"] for e in expanded["value"][0]["asistentes"]] == [
        row["__id"] for row in rows[:3]
    ]


def test_repeat_table_pages_with_a_row_skiptoken(client, meetings):
    table = svc(meetings.project_id) + "/Submissions.asistentes"
    everything = document(client, meetings.analyst, table)["value"]
    first = document(client, meetings.analyst, table, **{"$top": "4", "$count": "true"})
    assert first["value"] == everything[:4]
    assert skiptoken_of(first["@odata.nextLink"]) == {"repeatId": everything[3]["__id"]}
    second = follow(client, meetings.analyst, first["@odata.nextLink"])
    assert second["value"] == everything[4:8]
    assert second["@odata.count"] == 9
    third = follow(client, meetings.analyst, second["@odata.nextLink"])
    assert third["value"] == everything[8:]
    assert "@odata.nextLink" not in third
    skipped = document(client, meetings.analyst, table, **{"$skip": "7"})
    assert skipped["value"] == everything[7:]
    selected = document(client, meetings.analyst, table, **{"$select": "sexo"})
    assert selected["value"][0] == {"sexo": "mujer"}
    from app.odata.options import encode_skiptoken

    gone = client.get(
        table,
        headers=meetings.analyst,
        query_string={"$skiptoken": encode_skiptoken({"repeatId": "0" * 40})},
    )
    assert gone.status_code == 400 and problem_code(gone) == 400.34


def test_one_entity_is_its_row(client, meetings):
    iid = meetings.ids[1]
    url = f"{svc(meetings.project_id)}/Submissions('{quote(iid)}')"
    body = document(client, meetings.analyst, url)
    assert body["@odata.context"].endswith("/$metadata#Submissions")
    assert len(body["value"]) == 1
    assert body["value"][0]["__id"] == iid
    assert body["value"][0]["temas"] == "Semillas"
    table = document(
        client, meetings.analyst, svc(meetings.project_id) + "/Submissions"
    )
    assert body["value"][0] == next(r for r in table["value"] if r["__id"] == iid)


def test_one_entitys_repeat_rows_page_by_row(client, meetings):
    iid = meetings.ids[0]
    record = f"{svc(meetings.project_id)}/Submissions('{quote(iid)}')"
    body = document(client, meetings.analyst, f"{record}/asistentes")
    assert body["@odata.context"].endswith("/$metadata#Submissions.asistentes")
    assert [row["__Submissions-id"] for row in body["value"]] == [iid] * 3
    first = document(
        client,
        meetings.analyst,
        f"{record}/asistentes",
        **{"$top": "2", "$count": "true"},
    )
    assert first["value"] == body["value"][:2]
    assert first["@odata.count"] == 3
    link = first["@odata.nextLink"]
    assert f"Submissions('{quote(iid, safe='')}')/asistentes?%24top=2" in link
    assert skiptoken_of(link) == {"repeatId": body["value"][1]["__id"]}
    rest = follow(client, meetings.analyst, link)
    assert rest["value"] == body["value"][2:]
    assert "@odata.nextLink" not in rest


def test_unknown_entities_and_paths_are_not_found(client, meetings):
    base = svc(meetings.project_id)
    for path in (
        "/Submissions('uuid:00000000-0000-0000-0000-000000000000')",
        "/Submissions('uuid:00000000-0000-0000-0000-000000000000')/asistentes",
        f"/Submissions('{meetings.ids[0]}')/no_existe",
        f"/Submissions('{meetings.ids[0]}')/lugar",
        "/Submissions('con espacios')",
        "/Submissions.asistentes.nombre",
    ):
        response = client.get(base + path, headers=meetings.analyst)
        assert response.status_code == 404, path
        assert problem_code(response) == 404.1, path

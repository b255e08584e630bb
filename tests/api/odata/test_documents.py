"""The service document and the metadata document of a form's feed, with
Central's shapes, headers and refusals (`test/integration/api/odata.js`)."""

from __future__ import annotations

import json

from lxml import etree

from tests.api.odata.support import MEETING, problem_code, svc

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
BASE = "org.opendatakit.user.reunion_cdp"
REPEATS = (
    "Submissions.asistentes",
    "Submissions.acuerdos",
    "Submissions.compromisos",
    "Submissions.fotos",
)


def test_service_document_lists_submissions_and_each_repeat_table(client, meetings):
    response = client.get(svc(meetings.project_id), headers=meetings.analyst)
    assert response.status_code == 200
    assert response.headers["OData-Version"] == "4.0"
    assert response.headers["Content-Type"] == (
        "application/json; charset=utf-8; odata.metadata=minimal"
    )
    assert json.loads(response.get_data(as_text=True)) == {
        "@odata.context": f"http://localhost{svc(meetings.project_id)}/$metadata",
        "value": [
            {"name": name, "kind": "EntitySet", "url": name}
            for name in ("Submissions", *REPEATS)
        ],
    }


def test_service_document_refuses_what_central_refuses(client, meetings):
    url = svc(meetings.project_id)
    cases = [
        (url, {"$format": "xml"}, 406, 406.1),
        (url, {"$unknown": "1"}, 501, 501.1),
        (url, {"$expand": "asistentes"}, 501, 501.6),
        (url, {"$select": "temas", "$expand": "*"}, 501, 501.11),
        (svc(meetings.project_id, "no_existe"), {}, 404, 404.1),
    ]
    for path, query, status, code in cases:
        response = client.get(path, headers=meetings.analyst, query_string=query)
        assert response.status_code == status, (query, response.get_data())
        assert problem_code(response) == code
    old = client.get(url, headers={**meetings.analyst, "OData-MaxVersion": "3.0"})
    assert old.status_code == 404


def test_people_without_submission_read_and_app_users_are_refused(
    client, meetings, person
):
    collector = person("recolectora", "data_collector")
    assert client.get(svc(meetings.project_id), headers=collector).status_code == 403
    tablet = f"/v1/key/{meetings.token}" + svc(meetings.project_id).removeprefix("/v1")
    for suffix in ("", "/$metadata", "/Submissions"):
        response = client.get(tablet + suffix)
        assert response.status_code == 403, suffix
    anonymous = client.get(svc(meetings.project_id) + "/Submissions")
    assert anonymous.status_code == 401


def test_metadata_describes_groups_repeats_and_geopoints(client, meetings):
    response = client.get(
        svc(meetings.project_id) + "/$metadata", headers=meetings.analyst
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert response.headers["OData-Version"] == "4.0"
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<edmx:Edmx')
    root = etree.fromstring(text.encode())
    schemas = root.findall(f".//{EDM}Schema")
    assert [s.get("Namespace") for s in schemas] == [
        "org.opendatakit.submission",
        BASE,
    ]
    user = schemas[1]
    entities = {e.get("Name"): e for e in user.findall(f"{EDM}EntityType")}
    assert list(entities) == ["Submissions", *REPEATS]
    props = {
        p.get("Name"): p.get("Type")
        for p in entities["Submissions"].findall(f"{EDM}Property")
    }
    assert props["__id"] == "Edm.String"
    assert props["__system"] == "org.opendatakit.submission.metadata"
    assert props["lugar"] == f"{BASE}.lugar"  # a group: a complex type
    assert props["start"] == "Edm.DateTimeOffset"
    assert props["fecha"] == "Edm.Date"
    assert props["temas"] == "Edm.String"
    navigation = {
        n.get("Name"): n.get("Type")
        for n in entities["Submissions"].findall(f"{EDM}NavigationProperty")
    }
    assert navigation == {
        "asistentes": f"Collection({BASE}.Submissions.asistentes)",
        "acuerdos": f"Collection({BASE}.Submissions.acuerdos)",
        "compromisos": f"Collection({BASE}.Submissions.compromisos)",
        "fotos": f"Collection({BASE}.Submissions.fotos)",
    }
    commitments = {
        p.get("Name"): p.get("Type")
        for p in entities["Submissions.compromisos"].findall(f"{EDM}Property")
    }
    assert commitments["__Submissions-id"] == "Edm.String"
    assert commitments["monto"] == "Edm.Decimal"
    complexes = {c.get("Name"): c for c in user.findall(f"{EDM}ComplexType")}
    assert {"lugar", "intercambio", "saberes", "meta"} <= set(complexes)
    place = {
        p.get("Name"): p.get("Type")
        for p in complexes["lugar"].findall(f"{EDM}Property")
    }
    assert place == {
        "ayllu": "Edm.String",
        "comunidad": "Edm.String",
        "ubicacion": "Edm.GeographyPoint",
    }
    container = user.find(f"{EDM}EntityContainer")
    assert container.get("Name") == MEETING
    assert [s.get("Name") for s in container] == ["Submissions", *REPEATS]


def test_metadata_problems_are_written_as_centrals_xml_error(client, meetings, person):
    missing = client.get(
        svc(meetings.project_id, "no_existe") + "/$metadata", headers=meetings.analyst
    )
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert missing.get_data(as_text=True) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<error code="404.1">\n'
        "  <message>The form was not found.</message>\n  <details></details>\n"
        "</error>"
    )
    outsider = person("ajena", None)
    refused = client.get(svc(meetings.project_id) + "/$metadata", headers=outsider)
    assert refused.status_code == 403
    assert b'<error code="403.1">' in refused.get_data()
    as_json = client.get(
        svc(meetings.project_id) + "/$metadata",
        headers=meetings.analyst,
        query_string={"$format": "json"},
    )
    assert as_json.status_code == 406
    assert b'<error code="406.1">' in as_json.get_data()


def test_draft_feed_has_the_drafts_fields_and_no_rows(client, meetings):
    url = svc(meetings.project_id, draft=True)
    before = client.get(url + "/Submissions", headers=meetings.analyst)
    assert before.status_code == 404 and problem_code(before) == 404.1
    draft = client.post(
        f"/v1/projects/{meetings.project_id}/forms/{MEETING}/draft",
        headers=meetings.admin,
    )
    assert draft.status_code == 200, draft.get_data(as_text=True)
    service = client.get(url, headers=meetings.analyst)
    assert service.status_code == 200
    assert service.get_json()["value"][0]["name"] == "Submissions"
    metadata = client.get(url + "/$metadata", headers=meetings.analyst)
    assert metadata.status_code == 200
    assert b'EntityType Name="Submissions.asistentes"' in metadata.get_data()
    rows = client.get(
        url + "/Submissions", headers=meetings.analyst, query_string={"$count": "true"}
    )
    assert rows.status_code == 200
    assert rows.get_json()["value"] == []
    assert rows.get_json()["@odata.count"] == 0
    one = client.get(
        f"{url}/Submissions('{meetings.ids[0]}')", headers=meetings.analyst
    )
    assert one.status_code == 404

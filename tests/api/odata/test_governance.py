"""The feed reads through governance: a record a viewer may not read in full
is not a row, not counted, not an entity and not a repeat's parent, for a
non-guardian exactly as in the exports; its ayllu's guardian reads it.

The world: the CdP's `practica_saber` form; a `restringido` practice of
aransaya, a `sagrado` one (content dropped at intake) and a `publico` one,
sent by a tablet; an analyst, the site admin, the guardian of manasaya and
the guardian of aransaya.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api.odata.support import (
    PRACTICE,
    document,
    follow,
    practice_instance,
    problem_code,
    svc,
)
from tests.api.submissions.support import publish_cdp_forms

SECRET = "Remedio secreto del abuelo"
STEPS = "Submissions.contenido.pasos"


@pytest.fixture
def practices(client, runtime, seeded, admin_headers, person):  # type: ignore[no-untyped-def]
    publish_cdp_forms(runtime, seeded.project_id, PRACTICE)
    tablet = (
        f"/v1/key/{seeded.token}/projects/{seeded.project_id}/forms/{PRACTICE}"
        "/submissions"
    )
    ids = {}
    for level, name in (
        ("restringido", SECRET),
        ("sagrado", "Ritual"),
        ("publico", "Lameo de la pampa"),
    ):
        xml, _iid, _files = practice_instance(level=level, name=name)
        sent = client.post(tablet, data=xml, headers={"Content-Type": "text/xml"})
        assert sent.status_code == 200, sent.get_data(as_text=True)
        ids[level] = sent.get_json()["instanceId"]
    people = {
        "analista": person("analista", "analyst"),
        "admin": admin_headers,
        "guardian_manasaya": person("gm", "guardian", ayllu="manasaya"),
        "guardiana": person("ga", "guardian", ayllu="aransaya"),
    }
    return seeded.project_id, ids, people


def test_restricted_and_sacred_records_are_absent_for_non_guardians(client, practices):
    project_id, ids, people = practices
    url = svc(project_id, PRACTICE)
    for who in ("analista", "admin", "guardian_manasaya"):
        headers = people[who]
        rows = document(client, headers, url + "/Submissions", **{"$count": "true"})
        assert [row["__id"] for row in rows["value"]] == [ids["publico"]], who
        assert rows["@odata.count"] == 1, who
        counted = document(
            client, headers, url + "/Submissions", **{"$top": "0", "$count": "true"}
        )
        assert counted["@odata.count"] == 1, who
        for level in ("restringido", "sagrado"):
            hidden = ids[level]
            one = client.get(f"{url}/Submissions('{quote(hidden)}')", headers=headers)
            assert one.status_code == 404 and problem_code(one) == 404.1, who
            below = client.get(
                f"{url}/Submissions('{quote(hidden)}')/contenido/pasos",
                headers=headers,
            )
            assert below.status_code == 404, who
            filtered = document(
                client,
                headers,
                url + "/Submissions",
                **{"$filter": f"__id eq '{hidden}'", "$count": "true"},
            )
            assert filtered["value"] == [] and filtered["@odata.count"] == 0, who
        steps = document(client, headers, f"{url}/{STEPS}", **{"$count": "true"})
        assert {r["__Submissions-id"] for r in steps["value"]} == {ids["publico"]}
        assert steps["@odata.count"] == len(steps["value"]) > 0, who
        expanded = client.get(
            url + "/Submissions", headers=headers, query_string={"$expand": "*"}
        )
        assert SECRET.encode() not in expanded.get_data(), who


def test_the_ayllus_guardian_reads_the_restricted_record(client, practices):
    project_id, ids, people = practices
    url = svc(project_id, PRACTICE)
    headers = people["guardiana"]
    rows = document(client, headers, url + "/Submissions", **{"$count": "true"})
    assert {row["__id"] for row in rows["value"]} == {
        ids["restringido"],
        ids["publico"],
    }
    assert rows["@odata.count"] == 2
    # Paged one by one, the pages give the same two records and stop.
    first = document(client, headers, url + "/Submissions", **{"$top": "1"})
    second = follow(client, headers, first["@odata.nextLink"])
    assert [r["__id"] for r in first["value"] + second["value"]] == [
        r["__id"] for r in rows["value"]
    ]
    assert "@odata.nextLink" not in second
    one = document(client, headers, f"{url}/Submissions('{quote(ids['restringido'])}')")
    assert one["value"][0]["contenido"]["nombre_local"] == SECRET
    # The sacred record's content was never stored: nobody reads it.
    sacred = client.get(
        f"{url}/Submissions('{quote(ids['sagrado'])}')", headers=headers
    )
    assert sacred.status_code == 404
    analyst_steps = document(client, people["analista"], f"{url}/{STEPS}")["value"]
    guardian_steps = document(client, headers, f"{url}/{STEPS}")["value"]
    assert len(guardian_steps) > len(analyst_steps)

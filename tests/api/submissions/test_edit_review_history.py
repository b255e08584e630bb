"""Editing a submission (`PUT`), its review state (`PATCH`), comments, the
versions and what each edit changed, and the audit entries about it."""

from __future__ import annotations

from tests.api.submissions.support import (
    ACTOR_KEYS,
    AUDIT_KEYS,
    COMMENT_KEYS,
    VERSION_KEYS,
    is_iso,
    one,
    post_xml,
    problem,
    put_xml,
)
from tests.support import encuesta_xml, new_instance_id


def _sent(client, seeded, headers, **kwargs) -> str:  # type: ignore[no-untyped-def]
    instance_id = new_instance_id()
    response = post_xml(
        client, headers, seeded.project_id, encuesta_xml(instance_id, **kwargs)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return instance_id


def test_an_edit_adds_a_version_and_answers_the_submission(
    client, seeded, admin_headers
):
    root = _sent(client, seeded, admin_headers)
    second = new_instance_id()
    xml = encuesta_xml(second, nombre="Juana Mamani", deprecated_id=root)
    response = client.put(
        one(seeded.project_id, root),
        data=xml,
        headers={**admin_headers, "Content-Type": "text/xml"},
        query_string={"deviceID": "otra-tableta"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["instanceId"] == root
    assert body["currentVersion"]["instanceId"] == second
    assert body["currentVersion"]["deviceId"] == "otra-tableta"
    assert body["reviewState"] == "edited"
    current = client.get(one(seeded.project_id, root) + ".xml", headers=admin_headers)
    assert current.data == xml


def test_versions_are_newest_first_with_their_own_metadata(
    client, seeded, admin_headers
):
    root = _sent(client, seeded, admin_headers)
    second = new_instance_id()
    put_xml(
        client,
        admin_headers,
        seeded.project_id,
        root,
        encuesta_xml(second, deprecated_id=root),
    )
    response = client.get(
        one(seeded.project_id, root) + "/versions", headers=admin_headers
    )
    assert response.status_code == 200
    versions = response.get_json()
    assert [v["instanceId"] for v in versions] == [second, root]
    assert [v["current"] for v in versions] == [True, False]
    for version in versions:
        assert set(version) == VERSION_KEYS
        assert version["submitterId"] == seeded.admin_id
    extended = client.get(
        one(seeded.project_id, root) + "/versions",
        headers={**admin_headers, "X-Extended-Metadata": "true"},
    ).get_json()
    assert set(extended[0]) == {*VERSION_KEYS, "submitter", "formVersion"}
    assert extended[0]["formVersion"] == "2026112401"
    assert set(extended[0]["submitter"]) == ACTOR_KEYS

    single = client.get(
        f"{one(seeded.project_id, root)}/versions/{root}", headers=admin_headers
    )
    assert single.status_code == 200
    assert single.get_json()["instanceId"] == root
    assert single.get_json()["current"] is False
    old_xml = client.get(
        f"{one(seeded.project_id, root)}/versions/{root}.xml", headers=admin_headers
    )
    assert old_xml.data == encuesta_xml(root)
    unknown = client.get(
        f"{one(seeded.project_id, root)}/versions/{new_instance_id()}",
        headers=admin_headers,
    )
    assert unknown.status_code == 404
    assert problem(unknown) == 404.1


def test_diffs_are_centrals_shape(client, seeded, admin_headers):
    root = _sent(client, seeded, admin_headers, asistentes=(("Pedro", None),))
    second = new_instance_id()
    put_xml(
        client,
        admin_headers,
        seeded.project_id,
        root,
        encuesta_xml(
            second,
            nombre="Angela",
            deprecated_id=root,
            asistentes=(("Pedro", None), ("Rosa", None)),
        ),
    )
    response = client.get(
        one(seeded.project_id, root) + "/diffs", headers=admin_headers
    )
    assert response.status_code == 200
    diffs = response.get_json()
    assert list(diffs) == [second]
    changes = diffs[second]
    assert {"old": "Juana", "new": "Angela", "path": ["nombre"]} in changes
    assert {"old": root, "new": second, "path": ["meta", "instanceID"]} in changes
    assert {"new": root, "path": ["meta", "deprecatedID"]} in changes
    assert {
        "new": {"asistente": "Rosa", "foto_asistente": ""},
        "path": [["asistentes", 1]],
    } in changes


def test_a_single_version_has_no_diffs(client, seeded, admin_headers):
    root = _sent(client, seeded, admin_headers)
    response = client.get(
        one(seeded.project_id, root) + "/diffs", headers=admin_headers
    )
    assert response.get_json() == {}


def test_review_states_as_central_accepts_them(client, seeded, admin_headers):
    instance_id = _sent(client, seeded, admin_headers)
    path = one(seeded.project_id, instance_id)
    for state in ("hasIssues", "approved", "rejected", "edited", None, "received"):
        response = client.patch(
            path, json={"reviewState": state}, headers=admin_headers
        )
        assert response.status_code == 200, (state, response.get_data(as_text=True))
        expected = None if state in (None, "received") else state
        assert response.get_json()["reviewState"] == expected
        assert is_iso(response.get_json()["updatedAt"])
        shown = client.get(path, headers=admin_headers).get_json()
        assert shown["reviewState"] == expected


def test_comments_are_centrals_comment_newest_first(client, seeded, admin_headers):
    instance_id = _sent(client, seeded, admin_headers)
    path = one(seeded.project_id, instance_id) + "/comments"
    for text in ("Foto borrosa", "Revisar nombre"):
        response = client.post(path, json={"body": text}, headers=admin_headers)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == COMMENT_KEYS
        assert body["body"] == text
        assert body["actorId"] == seeded.admin_id
        assert is_iso(body["createdAt"])
    listed = client.get(path, headers=admin_headers).get_json()
    assert [c["body"] for c in listed] == ["Revisar nombre", "Foto borrosa"]
    extended = client.get(
        path, headers={**admin_headers, "X-Extended-Metadata": "true"}
    ).get_json()
    assert set(extended[0]) == {*COMMENT_KEYS, "actor"}
    assert extended[0]["actor"]["id"] == seeded.admin_id


def test_a_comment_without_body_is_400_3(client, seeded, admin_headers):
    instance_id = _sent(client, seeded, admin_headers)
    response = client.post(
        one(seeded.project_id, instance_id) + "/comments",
        json={"text": "x"},
        headers=admin_headers,
    )
    assert response.status_code == 400
    assert problem(response) == 400.3


def test_audits_list_what_happened_to_the_submission_newest_first(
    client, seeded, admin_headers
):
    root = _sent(client, seeded, admin_headers)
    other = _sent(client, seeded, admin_headers)
    path = one(seeded.project_id, root)
    client.patch(path, json={"reviewState": "rejected"}, headers=admin_headers)
    second = new_instance_id()
    put_xml(
        client,
        admin_headers,
        seeded.project_id,
        root,
        encuesta_xml(second, deprecated_id=root),
    )
    client.delete(path, headers=admin_headers)
    client.post(path + "/restore", headers=admin_headers)
    client.patch(
        one(seeded.project_id, other),
        json={"reviewState": "approved"},
        headers=admin_headers,
    )
    response = client.get(path + "/audits", headers=admin_headers)
    assert response.status_code == 200
    audits = response.get_json()
    # Central's names and order (its test "should return all audit logs on
    # the submission").
    assert [a["action"] for a in audits] == [
        "submission.restore",
        "submission.delete",
        "submission.update.version",
        "submission.update",
        "submission.create",
    ]
    submission_id = audits[0]["details"]["submissionId"]
    for entry in audits:
        assert set(entry) >= AUDIT_KEYS
        assert entry["actorId"] == seeded.admin_id
        assert entry["details"]["submissionId"] == submission_id
        assert is_iso(entry["loggedAt"])
    assert audits[0]["acteeId"] == audits[-1]["acteeId"] is not None
    assert audits[-1]["details"]["instanceId"] == root
    assert audits[2]["details"]["instanceId"] == second
    extended = client.get(
        path + "/audits", headers={**admin_headers, "X-Extended-Metadata": "true"}
    ).get_json()
    assert {"actor", "actee"} <= set(extended[0])
    assert set(extended[0]["actor"]) == ACTOR_KEYS
    assert extended[0]["actor"]["id"] == seeded.admin_id
    assert extended[0]["actee"]["xmlFormId"] == "encuesta"

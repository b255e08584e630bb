"""Creating a submission from raw XML and reading it back in Central's
shapes: the list (plain, extended, newest first, limit/offset, deleted), one
submission, its XML exactly as stored, the redirect from a later version's
instanceID, submitters and keys."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.submissions.support import (
    ACTOR_KEYS,
    SUBMISSION_KEYS,
    VERSION_KEYS,
    base,
    is_iso,
    one,
    post_xml,
    problem,
    put_xml,
)
from tests.support import encuesta_xml, new_instance_id


def test_a_created_submission_answers_centrals_submission(
    client, seeded, admin_headers
):
    instance_id = new_instance_id()
    response = post_xml(
        client,
        {**admin_headers, "User-Agent": "pyodk/1.3", "ODK-Client": "script"},
        seeded.project_id,
        encuesta_xml(instance_id),
        deviceID="collect:Xk3mZ9pQ2rT7uV1w",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == SUBMISSION_KEYS
    assert body["instanceId"] == instance_id
    assert body["submitterId"] == seeded.admin_id
    assert body["deviceId"] == "collect:Xk3mZ9pQ2rT7uV1w"
    assert body["userAgent"] == "script pyodk/1.3"
    assert body["reviewState"] is None
    assert is_iso(body["createdAt"])
    assert body["updatedAt"] is None
    assert body["deletedAt"] is None
    current = body["currentVersion"]
    assert set(current) == VERSION_KEYS
    assert current["instanceId"] == instance_id
    assert current["current"] is True
    assert current["submitterId"] == seeded.admin_id


def test_the_list_is_newest_first_with_limit_and_offset(client, seeded, admin_headers):
    sent = [new_instance_id() for _ in range(5)]
    for instance_id in sent:
        post_xml(client, admin_headers, seeded.project_id, encuesta_xml(instance_id))
    listing = client.get(base(seeded.project_id), headers=admin_headers)
    assert listing.status_code == 200
    assert [s["instanceId"] for s in listing.get_json()] == sent[::-1]
    for entry in listing.get_json():
        assert set(entry) == SUBMISSION_KEYS
    page = client.get(
        base(seeded.project_id),
        headers=admin_headers,
        query_string={"limit": "2", "offset": "1"},
    )
    assert [s["instanceId"] for s in page.get_json()] == [sent[3], sent[2]]


def test_an_empty_form_lists_nothing(client, seeded, admin_headers):
    response = client.get(base(seeded.project_id), headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == []


def test_extended_metadata_adds_the_submitter_and_the_versions_submitter(
    client, seeded, admin_headers, person
):
    instance_id = new_instance_id()
    post_xml(client, admin_headers, seeded.project_id, encuesta_xml(instance_id))
    manager = person("marta", "manager")
    edited = new_instance_id()
    put_xml(
        client,
        manager,
        seeded.project_id,
        instance_id,
        encuesta_xml(edited, deprecated_id=instance_id),
    )
    headers = {**admin_headers, "X-Extended-Metadata": "true"}
    [listed] = client.get(base(seeded.project_id), headers=headers).get_json()
    shown = client.get(one(seeded.project_id, instance_id), headers=headers)
    for body in (listed, shown.get_json()):
        assert set(body) == {*SUBMISSION_KEYS, "submitter"}
        assert set(body["submitter"]) == ACTOR_KEYS
        assert body["submitter"]["id"] == seeded.admin_id
        assert body["submitter"]["type"] == "user"
        assert is_iso(body["submitter"]["createdAt"])
        assert body["currentVersion"]["instanceId"] == edited
        assert set(body["currentVersion"]) == {*VERSION_KEYS, "submitter"}
        assert body["currentVersion"]["submitter"]["displayName"] == "marta"
        assert body["reviewState"] == "edited"
        assert is_iso(body["updatedAt"])


def test_one_submission_by_its_percent_encoded_instance_id(
    client, seeded, admin_headers
):
    instance_id = new_instance_id()
    post_xml(client, admin_headers, seeded.project_id, encuesta_xml(instance_id))
    path = f"{base(seeded.project_id)}/{quote(instance_id, safe='')}"
    assert "%3A" in path
    response = client.get(path, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json()["instanceId"] == instance_id


def test_the_xml_is_served_exactly_as_stored(client, seeded, admin_headers):
    instance_id = new_instance_id()
    xml = encuesta_xml(instance_id, nombre="Juana & <Pedro>")
    post_xml(client, admin_headers, seeded.project_id, xml)
    response = client.get(
        one(seeded.project_id, instance_id) + ".xml", headers=admin_headers
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert response.data == xml


def test_a_later_versions_instance_id_redirects_to_the_versions_resource(
    client, seeded, admin_headers
):
    root, second = new_instance_id(), new_instance_id()
    post_xml(client, admin_headers, seeded.project_id, encuesta_xml(root))
    put_xml(
        client,
        admin_headers,
        seeded.project_id,
        root,
        encuesta_xml(second, deprecated_id=root),
    )
    for suffix in ("", ".xml", "/attachments"):
        response = client.get(
            one(seeded.project_id, second) + suffix, headers=admin_headers
        )
        assert response.status_code == 301
        target = (
            f"{base(seeded.project_id)}/{quote(root, safe='')}/versions/"
            f"{quote(second, safe='')}{suffix}"
        )
        assert response.headers["Location"] == target
        assert response.get_data(as_text=True) == (
            f"Moved Permanently. Redirecting to {target}"
        )
        followed = client.get(target, headers=admin_headers)
        assert followed.status_code == 200


def test_deleted_submissions_leave_the_list_and_are_listed_with_deleted_true(
    client, seeded, admin_headers
):
    kept, gone = new_instance_id(), new_instance_id()
    for instance_id in (kept, gone):
        post_xml(client, admin_headers, seeded.project_id, encuesta_xml(instance_id))
    assert client.delete(
        one(seeded.project_id, gone), headers=admin_headers
    ).get_json() == {"success": True}
    live = client.get(base(seeded.project_id), headers=admin_headers).get_json()
    assert [s["instanceId"] for s in live] == [kept]
    deleted = client.get(
        base(seeded.project_id),
        headers=admin_headers,
        query_string={"deleted": "true"},
    ).get_json()
    assert [s["instanceId"] for s in deleted] == [gone]
    assert is_iso(deleted[0]["deletedAt"])
    missing = client.get(one(seeded.project_id, gone), headers=admin_headers)
    assert missing.status_code == 404
    assert problem(missing) == 404.1
    restored = client.post(
        one(seeded.project_id, gone) + "/restore", headers=admin_headers
    )
    assert restored.get_json() == {"success": True}
    again = client.get(one(seeded.project_id, gone), headers=admin_headers)
    assert again.status_code == 200
    assert again.get_json()["deletedAt"] is None


def test_restoring_a_live_submission_is_404(client, seeded, admin_headers):
    instance_id = new_instance_id()
    post_xml(client, admin_headers, seeded.project_id, encuesta_xml(instance_id))
    response = client.post(
        one(seeded.project_id, instance_id) + "/restore", headers=admin_headers
    )
    assert response.status_code == 404
    assert problem(response) == 404.1


def test_a_deleted_instance_id_cannot_be_sent_again(client, seeded, admin_headers):
    instance_id = new_instance_id()
    xml = encuesta_xml(instance_id)
    post_xml(client, admin_headers, seeded.project_id, xml)
    client.delete(one(seeded.project_id, instance_id), headers=admin_headers)
    response = post_xml(client, admin_headers, seeded.project_id, xml)
    assert response.status_code == 409
    assert problem(response) == 409.18


def test_submitters_are_listed_once_by_name(client, seeded, admin_headers, person):
    zoe = person("zoe", "manager")
    for headers in (admin_headers, zoe, admin_headers):
        post_xml(client, headers, seeded.project_id, encuesta_xml(new_instance_id()))
    response = client.get(
        base(seeded.project_id) + "/submitters", headers=admin_headers
    )
    assert response.status_code == 200
    found = response.get_json()
    names = [a["displayName"] for a in found]
    assert names == sorted(names, key=str.casefold)
    assert "zoe" in names
    assert len(found) == 2
    assert seeded.admin_id in {a["id"] for a in found}
    for actor in found:
        assert set(actor) == ACTOR_KEYS
        assert actor["type"] == "user"


def test_keys_are_an_empty_list(client, seeded, admin_headers):
    response = client.get(base(seeded.project_id) + "/keys", headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == []

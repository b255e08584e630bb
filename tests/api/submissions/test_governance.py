"""No path of the submissions API gives restricted knowledge to someone who
does not guard its ayllu, and a record a viewer may not read answers exactly
as a missing one.

The world: the CdP's `practica_saber` form in the default project; a
`restringido` practice of aransaya, with its photos, audio and video, sent
by a tablet and edited once; a `sagrado` one sent with content anyway; a
`publico` one as the control that the paths show content at all. The
viewers: an analyst, a manager, the site admin, the guardian of manasaya and
the guardian of aransaya. Only the last reads the restricted record; nobody
reads the sacred one's content (there is none to read).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest

from tests.api.submissions.support import (
    Headers,
    base,
    one,
    post_xml,
    practice_instance,
    problem,
    publish_cdp_forms,
    snapshot,
)
from tests.support import JPEG, new_instance_id

FORM = "practica_saber"
SECRET = "Remedio secreto del abuelo"
EDITED_SECRET = "Remedio secreto del abuelo (corregido)"
NON_GUARDIANS = ("analista", "coordinadora", "admin", "guardian_manasaya")
VIEWERS = (*NON_GUARDIANS, "guardiana")


@dataclass(frozen=True)
class World:
    project_id: int
    token: str  # the tablet's
    people: dict[str, Headers]
    restricted: str  # first instanceID
    restricted_second: str  # the edit's instanceID
    files: tuple[str, ...]
    sacred: str
    public: str


def _send_with_files(client, path_prefix, headers, xml, files) -> str:  # type: ignore[no-untyped-def]
    created = client.post(
        path_prefix, data=xml, headers={**headers, "Content-Type": "text/xml"}
    )
    assert created.status_code == 200, created.get_data(as_text=True)
    instance_id = created.get_json()["instanceId"]
    for name, data in files.items():
        uploaded = client.post(
            f"{path_prefix}/{instance_id}/attachments/{name}",
            data=data,
            headers={**headers, "Content-Type": "application/octet-stream"},
        )
        assert uploaded.status_code == 200, uploaded.get_data(as_text=True)
    return str(instance_id)


@pytest.fixture
def world(client, runtime, seeded, admin_headers, person) -> World:
    publish_cdp_forms(runtime, seeded.project_id, FORM)
    people = {
        "admin": admin_headers,
        "analista": person("analista", "analyst"),
        "coordinadora": person("coordinadora", "manager"),
        "guardian_manasaya": person("guardian_manasaya", "guardian", ayllu="manasaya"),
        "guardiana": person("guardiana", "guardian", ayllu="aransaya"),
    }
    tablet = f"/v1/key/{seeded.token}/projects/{seeded.project_id}/forms/{FORM}"
    tablet += "/submissions"
    xml, _id, files = practice_instance(level="restringido", name=SECRET)
    restricted = _send_with_files(client, tablet, {}, xml, files)
    # An edit by the admin that keeps the level: allowed without reading it.
    second = new_instance_id()
    edited = xml.replace(SECRET.encode(), EDITED_SECRET.encode()).replace(
        f"<instanceID>{restricted}</instanceID>".encode(),
        f"<instanceID>{second}</instanceID><deprecatedID>{restricted}"
        "</deprecatedID>".encode(),
    )
    response = client.put(
        one(seeded.project_id, restricted, FORM),
        data=edited,
        headers={**admin_headers, "Content-Type": "text/xml"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    xml, _id, files = practice_instance(level="sagrado", name="Ritual sagrado")
    sacred = _send_with_files(client, tablet, {}, xml, {})
    xml, _id, files = practice_instance(level="publico", name="Lameo de la pampa")
    public = _send_with_files(
        client, base(seeded.project_id, FORM), admin_headers, xml, {}
    )
    return World(
        seeded.project_id,
        seeded.token,
        people,
        restricted,
        second,
        tuple(sorted(files)),
        sacred,
        public,
    )


def _reads(world: World, instance_id: str) -> list[str]:
    """Every read path about one record."""
    record = one(world.project_id, instance_id, FORM)
    first = quote(world.restricted, safe="")
    photo = world.files[0]
    return [
        record,
        record + ".xml",
        record + "/attachments",
        f"{record}/attachments/{photo}",
        record + "/versions",
        f"{record}/versions/{first}",
        f"{record}/versions/{first}.xml",
        f"{record}/versions/{first}/attachments",
        f"{record}/versions/{first}/attachments/{photo}",
        record + "/diffs",
        record + "/comments",
        record + "/audits",
    ]


@pytest.mark.parametrize("who", NON_GUARDIANS)
def test_a_restricted_record_answers_non_guardians_as_a_missing_one(client, world, who):
    headers = world.people[who]
    missing = new_instance_id()
    for hidden, absent in zip(
        _reads(world, world.restricted), _reads(world, missing), strict=True
    ):
        shown = client.get(hidden, headers=headers)
        nothing = client.get(
            absent.replace(quote(world.restricted, safe=""), quote(missing, safe="")),
            headers=headers,
        )
        assert shown.status_code == 404, (hidden, shown.status_code)
        assert problem(shown) == 404.1
        assert shown.get_json() == nothing.get_json(), hidden
    # The edit's own instanceID is not redirected to the record either.
    later = client.get(
        one(world.project_id, world.restricted_second, FORM), headers=headers
    )
    assert later.status_code == 404


@pytest.mark.parametrize("who", NON_GUARDIANS)
def test_lists_never_show_a_record_a_viewer_may_only_count(client, world, who):
    headers = world.people[who]
    path = base(world.project_id, FORM)
    for extra in ({}, {"X-Extended-Metadata": "true"}):
        response = client.get(path, headers={**headers, **extra})
        assert response.status_code == 200
        assert [s["instanceId"] for s in response.get_json()] == [world.public]
        text = response.get_data(as_text=True)
        for secret in (world.restricted, world.restricted_second, world.sacred):
            assert secret not in text
        assert "Tableta" not in text
    submitters = client.get(path + "/submitters", headers=headers).get_json()
    assert [s["displayName"] for s in submitters] != []
    assert "Tableta 1" not in {s["displayName"] for s in submitters}


def test_the_guardian_of_its_ayllu_reads_every_path(client, world):
    headers = world.people["guardiana"]
    for path in _reads(world, world.restricted):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
    listed = client.get(base(world.project_id, FORM), headers=headers).get_json()
    assert {s["instanceId"] for s in listed} == {world.restricted, world.public}
    xml = client.get(
        one(world.project_id, world.restricted, FORM) + ".xml", headers=headers
    )
    assert EDITED_SECRET.encode() in xml.data
    photo = client.get(
        f"{one(world.project_id, world.restricted, FORM)}/attachments/{world.files[0]}",
        headers=headers,
    )
    assert photo.data.startswith(JPEG[:4])
    diffs = client.get(
        one(world.project_id, world.restricted, FORM) + "/diffs", headers=headers
    )
    changes = diffs.get_json()[world.restricted_second]
    assert {
        "old": SECRET,
        "new": EDITED_SECRET,
        "path": ["contenido", "nombre_local"],
    } in changes
    later = client.get(
        one(world.project_id, world.restricted_second, FORM), headers=headers
    )
    assert later.status_code == 301
    submitters = client.get(
        base(world.project_id, FORM) + "/submitters", headers=headers
    ).get_json()
    assert "Tableta 1" in {s["displayName"] for s in submitters}


@pytest.mark.parametrize("who", VIEWERS)
def test_nobody_reads_a_sacred_record(client, world, who):
    headers = world.people[who]
    for path in _reads(world, world.sacred)[:4]:
        response = client.get(path, headers=headers)
        assert response.status_code == 404, (who, path)
        assert problem(response) == 404.1


@pytest.mark.parametrize("who", VIEWERS)
def test_every_member_reads_the_public_control(client, world, who):
    response = client.get(
        one(world.project_id, world.public, FORM), headers=world.people[who]
    )
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["coordinadora", "admin"])
def test_writes_to_a_restricted_record_answer_as_missing_and_store_nothing(
    client, runtime, world, who
):
    headers = world.people[who]
    record = one(world.project_id, world.restricted, FORM)
    before = snapshot(runtime)
    attempts = [
        client.patch(record, json={"reviewState": "approved"}, headers=headers),
        client.post(record + "/comments", json={"body": "visto"}, headers=headers),
        client.delete(record, headers=headers),
        client.post(
            f"{record}/attachments/{world.files[0]}",
            data=JPEG,
            headers={**headers, "Content-Type": "image/jpeg"},
        ),
        client.delete(f"{record}/attachments/{world.files[0]}", headers=headers),
    ]
    for response in attempts:
        assert response.status_code == 404, response.get_data(as_text=True)
        assert problem(response) == 404.1
    assert snapshot(runtime) == before


def test_a_sacred_record_keeps_no_file_whoever_uploads_it(client, runtime, world):
    """The tablet that sent it may fill its own missing files, but a sacred
    record is stored as its minimal record, which names none."""
    before = snapshot(runtime)
    tablet = f"/v1/key/{world.token}/projects/{world.project_id}/forms/{FORM}"
    paths = {
        "the tablet that sent it": (f"{tablet}/submissions/{world.sacred}", {}),
        "the admin": (one(world.project_id, world.sacred, FORM), world.people["admin"]),
    }
    for record, headers in paths.values():
        response = client.post(
            f"{record}/attachments/{world.files[0]}",
            data=JPEG,
            headers={**headers, "Content-Type": "image/jpeg"},
        )
        assert response.status_code == 404, response.get_data(as_text=True)
        assert problem(response) == 404.1
    assert snapshot(runtime) == before


def test_a_restricted_record_created_through_the_api_keeps_its_files_private(
    client, runtime, world
):
    """Created and filled by the admin, who may not read it afterwards."""
    xml, instance_id, files = practice_instance(level="restringido", name="Otro")
    admin = world.people["admin"]
    assert post_xml(client, admin, world.project_id, xml, FORM).status_code == 200
    name, data = sorted(files.items())[0]
    uploaded = client.post(
        f"{one(world.project_id, instance_id, FORM)}/attachments/{name}",
        data=data,
        headers={**admin, "Content-Type": "image/jpeg"},
    )
    assert uploaded.status_code == 200, uploaded.get_data(as_text=True)
    read = client.get(
        f"{one(world.project_id, instance_id, FORM)}/attachments/{name}", headers=admin
    )
    assert read.status_code == 404
    guarded = client.get(
        f"{one(world.project_id, instance_id, FORM)}/attachments/{name}",
        headers=world.people["guardiana"],
    )
    assert guarded.data == data

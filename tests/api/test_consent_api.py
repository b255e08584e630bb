"""Consent withdrawals over the API (Ayni's addition, domain.md §4): the
guardian of the ayllu records one and the record leaves the API's lists and
reads at once; lifting brings it back; anyone without the
right, and every malformed request, is refused with nothing stored."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.db.models import AuditLog, ConsentWithdrawal
from tests.api.conftest import bearer_for
from tests.web.support import make_web_world, send_practice

BASE = "/v1/projects/1/consent/withdrawals"
SUBMISSIONS = "/v1/projects/1/forms/practica_saber/submissions"
REASON = "La portadora lo pidió en la asamblea del 3 de noviembre."
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ENTRY_KEYS = {
    "id",
    "layer",
    "ayllu",
    "xmlFormId",
    "instanceId",
    "reason",
    "recordedBy",
    "createdAt",
    "liftedAt",
    "liftedBy",
    "liftReason",
}


@pytest.fixture
def world(runtime):  # type: ignore[no-untyped-def]
    return make_web_world(runtime, cdp_forms=("practica_saber",))


def stored(runtime) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(withdrawals, consent audit entries)."""
    with runtime.db.read() as session:
        return (
            session.scalar(sa.select(sa.func.count()).select_from(ConsentWithdrawal)),
            session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditLog)
                .where(AuditLog.action.like("consent.%"))
            ),
        )


def individual(instance_id: str, reason: str = REASON) -> dict[str, str]:
    return {
        "layer": "individual",
        "xmlFormId": "practica_saber",
        "instanceId": instance_id,
        "reason": reason,
    }


def listed(client, headers) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(SUBMISSIONS, headers=headers)
    assert response.status_code == 200
    return [s["instanceId"] for s in response.get_json()]


def test_the_guardian_withdraws_and_lifts_and_the_record_follows(
    client, world, runtime
):
    instance_id, _media = send_practice(client, world, level="restringido")
    guardian = bearer_for(runtime, "guardiana")
    assert listed(client, guardian) == [instance_id]

    created = client.post(BASE, json=individual(instance_id), headers=guardian)
    assert created.status_code == 200
    entry = created.get_json()
    assert set(entry) == ENTRY_KEYS
    assert entry["layer"] == "individual"
    assert (entry["xmlFormId"], entry["instanceId"]) == ("practica_saber", instance_id)
    assert entry["reason"] == REASON and entry["recordedBy"] == "Guardiana"
    assert ISO.match(entry["createdAt"]) and entry["liftedAt"] is None
    assert listed(client, guardian) == []
    missing = client.get(f"{SUBMISSIONS}/{instance_id}", headers=guardian)
    assert missing.status_code == 404 and missing.get_json()["code"] == 404.1

    lifted = client.post(
        f"{BASE}/{entry['id']}/lift",
        json={"reason": "Consentimiento otorgado de nuevo (acta 14)."},
        headers=guardian,
    )
    assert lifted.status_code == 200
    assert lifted.get_json()["liftedBy"] == "Guardiana"
    assert ISO.match(lifted.get_json()["liftedAt"])
    assert listed(client, guardian) == [instance_id]

    history = client.get(BASE, headers=guardian).get_json()
    assert [h["id"] for h in history] == [entry["id"]]
    assert stored(runtime) == (1, 2)


def test_a_collective_withdrawal_hides_the_ayllu_from_the_api(client, world, runtime):
    send_practice(client, world, level="publico")
    manager = bearer_for(runtime, "coordinadora")
    answer = client.post(
        BASE,
        json={"layer": "colectivo", "ayllu": " Aransaya ", "reason": REASON},
        headers=manager,
    )
    assert answer.status_code == 200
    assert (answer.get_json()["layer"], answer.get_json()["ayllu"]) == (
        "colectivo",
        "aransaya",
    )
    assert listed(client, manager) == []


@pytest.mark.parametrize("who", ["analista", "recolectora", "guardian_manasaya"])
def test_without_the_right_it_is_403_1_and_nothing_is_stored(
    client, world, runtime, who
):
    instance_id, _media = send_practice(client, world, level="publico")
    headers = bearer_for(runtime, who)
    answer = client.post(BASE, json=individual(instance_id), headers=headers)
    assert answer.status_code == 403
    assert answer.get_json()["code"] == 403.1
    assert stored(runtime) == (0, 0)
    assert listed(client, bearer_for(runtime, "coordinadora")) == [instance_id]


def test_the_history_is_only_for_those_who_may_record(client, world, runtime):
    assert client.get(BASE, headers=bearer_for(runtime, "analista")).status_code == 403
    assert client.get(BASE).status_code == 401
    assert client.get(BASE, headers=bearer_for(runtime, "guardiana")).get_json() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("no es json", 400, 400.1),
        ({"layer": "individual"}, 400, 400.3),
        ({"layer": "colectivo", "ayllu": "aransaya", "reason": 7}, 400, 400.8),
        ({"layer": "colectivo", "ayllu": "aransaya", "reason": "x" * 2001}, 400, 400.8),
        ({"layer": "familiar", "ayllu": "aransaya", "reason": REASON}, 400, 400.8),
        ({"layer": "colectivo", "ayllu": "lima", "reason": REASON}, 400, 400.8),
        ({"layer": "colectivo", "ayllu": "aransaya", "reason": "   "}, 400, 400.8),
        (
            {
                "layer": "individual",
                "xmlFormId": "practica_saber",
                "instanceId": "uuid:no-existe",
                "reason": REASON,
            },
            400,
            400.8,
        ),
        (
            {"layer": "individual", "ayllu": "aransaya", "reason": REASON},
            400,
            400.8,
        ),
    ],
)
def test_a_malformed_withdrawal_gets_centrals_code_and_nothing_is_stored(
    client, world, runtime, body, status, code
):
    send_practice(client, world, level="publico")
    headers = bearer_for(runtime, "coordinadora")
    if isinstance(body, str):
        answer = client.post(
            BASE, data=body, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        answer = client.post(BASE, json=body, headers=headers)
    assert answer.status_code == status, answer.get_data(as_text=True)
    problem = answer.get_json()
    assert problem["code"] == code
    assert " / " in problem["detail"]  # Spanish, then English
    assert stored(runtime) == (0, 0)


def test_lifting_twice_or_an_unknown_withdrawal_is_refused(client, world, runtime):
    instance_id, _media = send_practice(client, world, level="publico")
    headers = bearer_for(runtime, "coordinadora")
    entry = client.post(BASE, json=individual(instance_id), headers=headers).get_json()
    lift = {"reason": "Otorgado de nuevo."}
    first = client.post(f"{BASE}/{entry['id']}/lift", json=lift, headers=headers)
    assert first.status_code == 200
    again = client.post(f"{BASE}/{entry['id']}/lift", json=lift, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == 409.3
    unknown = client.post(f"{BASE}/99999/lift", json=lift, headers=headers)
    assert unknown.status_code == 404 and unknown.get_json()["code"] == 404.1
    assert stored(runtime) == (1, 2)

"""Consent withdrawal from the console (domain.md §4): the guardian of the
ayllu records it and the record disappears at once, lifting brings it back,
and anyone without the right is refused with nothing stored."""

from __future__ import annotations

import sqlalchemy as sa

from app.db.models import AuditLog, ConsentWithdrawal
from tests.web.support import post_form, send_practice, sign_in

PAGE = "/projects/1/consent"
LIST = "/projects/1/forms/practica_saber/submissions"
REASON = "La portadora lo pidió en la asamblea del 3 de noviembre."


def withdrawals(runtime) -> list[ConsentWithdrawal]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return list(session.scalars(sa.select(ConsentWithdrawal)))


def consent_audit(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(AuditLog.action)
                .where(AuditLog.action.like("consent.%"))
                .order_by(AuditLog.id)
            )
        )


def withdraw(client, instance_id: str, reason: str = REASON):  # type: ignore[no-untyped-def]
    return post_form(
        client,
        PAGE,
        {
            "layer": "individual",
            "xml_form_id": "practica_saber",
            "instance_id": instance_id,
            "reason": reason,
        },
    )


def test_the_guardian_withdraws_a_practice_and_it_disappears_then_lifts_it(
    client, world, runtime
):
    instance_id, _media = send_practice(
        client, world, level="restringido", name="Remedio del abuelo"
    )
    sign_in(client, "guardiana")
    detail = client.get(f"{LIST}/{instance_id}").get_data(as_text=True)
    assert "Registrar un retiro de consentimiento de este registro" in detail
    assert ">Consentimientos</a>" in detail
    assert ">Panel de planificación</a>" in detail

    answer = withdraw(client, instance_id)
    assert answer.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "Retiro registrado" in page
    assert instance_id in page and REASON in page and "Vigente" in page
    assert "Remedio del abuelo" not in page
    assert client.get(f"{LIST}/{instance_id}").status_code == 404
    assert "0 envíos." in client.get(LIST).get_data(as_text=True)

    [withdrawal] = withdrawals(runtime)
    lifted = post_form(
        client,
        f"{PAGE}/{withdrawal.id}/lift",
        {"reason": "Consentimiento otorgado de nuevo (acta 14)."},
        page=PAGE,
    )
    assert lifted.status_code == 302
    assert "Levantado el" in client.get(PAGE).get_data(as_text=True)
    assert client.get(f"{LIST}/{instance_id}").status_code == 200
    assert consent_audit(runtime) == ["consent.withdraw", "consent.lift"]


def test_a_collective_withdrawal_hides_the_whole_ayllu(client, world, runtime):
    send_practice(client, world, level="publico", name="Lameo de la pampa")
    sign_in(client, "coordinadora")
    answer = post_form(
        client, PAGE, {"layer": "colectivo", "ayllu": "aransaya", "reason": REASON}
    )
    assert answer.status_code == 302
    assert "0 envíos." in client.get(LIST).get_data(as_text=True)
    [withdrawal] = withdrawals(runtime)
    assert (withdrawal.layer, withdrawal.ayllu) == ("colectivo", "aransaya")


def test_a_member_without_the_right_is_refused_and_nothing_is_stored(
    client, world, runtime
):
    instance_id, _media = send_practice(client, world, level="publico")
    sign_in(client, "analista")
    assert "Consentimientos" not in client.get("/projects/1").get_data(as_text=True)
    assert client.get(PAGE).status_code == 403
    token_page = "/projects/1"
    refused = post_form(
        client,
        PAGE,
        {
            "layer": "individual",
            "xml_form_id": "practica_saber",
            "instance_id": instance_id,
            "reason": REASON,
        },
        page=token_page,
    )
    assert refused.status_code == 403
    assert withdrawals(runtime) == []
    assert consent_audit(runtime) == []


def test_the_guardian_of_another_ayllu_cannot_withdraw_this_one(client, world, runtime):
    instance_id, _media = send_practice(client, world, level="publico")
    sign_in(client, "guardian_manasaya")
    withdraw(client, instance_id)
    page = client.get(PAGE).get_data(as_text=True)
    assert "quien custodia ese ayllu" in page
    assert withdrawals(runtime) == []


def test_a_withdrawal_without_reason_or_with_an_unknown_record_is_refused(
    client, world, runtime
):
    instance_id, _media = send_practice(client, world, level="publico")
    sign_in(client, "guardiana")
    withdraw(client, instance_id, reason="   ")
    assert "Indique el motivo" in client.get(PAGE).get_data(as_text=True)
    withdraw(client, "uuid:no-existe")
    assert "No hay un envío «uuid:no-existe»" in client.get(PAGE).get_data(as_text=True)
    assert withdrawals(runtime) == []
    assert consent_audit(runtime) == []


def test_the_consent_page_speaks_english_on_request(client, world):
    sign_in(client, "guardiana")
    page = client.get(f"{PAGE}?lang=en").get_data(as_text=True)
    assert "Consent withdrawals" in page
    assert "Record the withdrawal" in page

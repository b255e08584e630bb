"""Who may record or lift a consent withdrawal: site admins, the project's
managers and the guardian of the record's ayllu; nobody else, and a refusal
stores nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.db.models import AuditLog, ConsentWithdrawal
from app.errors import PermissionDeniedError
from app.governance import consent as governance
from app.governance.consent import (
    ConsentWithdrawalInvalidError,
    ConsentWithdrawalNotFoundError,
)
from tests.integration.governance.support import (
    GUARDED_AYLLU,
    OTHER_AYLLU,
    make_world,
    practice,
)

REASON = "La portadora pidió retirar su saber (acta de la asamblea 3)."


def stored(runtime) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return (
            session.scalar(sa.select(sa.func.count()).select_from(ConsentWithdrawal)),
            session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditLog)
                .where(AuditLog.action.like("consent.%"))
            ),
        )


@pytest.mark.parametrize("kind", ["admin", "guardian"])
def test_the_admin_and_the_guardian_of_the_ayllu_record_an_individual_withdrawal(
    runtime, kind
):
    world = make_world(runtime)
    record = practice(runtime, world.project_id, level="restringido")
    with runtime.db.transaction() as session:
        withdrawal = governance.withdraw_consent(
            session,
            world.actors[kind],
            project_id=world.project_id,
            layer="individual",
            submission_id=record,
            reason=REASON,
        )
        assert withdrawal.recorded_by_id == world.actors[kind].id
    assert stored(runtime) == (1, 1)


@pytest.mark.parametrize("kind", ["miembro", "guardian_otro", "tableta"])
def test_others_are_refused_and_nothing_is_stored(runtime, kind):
    world = make_world(runtime)
    record = practice(runtime, world.project_id, level="publico")
    with (
        pytest.raises(PermissionDeniedError) as refused,
        runtime.db.transaction() as session,
    ):
        governance.withdraw_consent(
            session,
            world.actors[kind],
            project_id=world.project_id,
            layer="individual",
            submission_id=record,
            reason=REASON,
        )
    assert refused.value.status == 403
    assert "custodia" in refused.value.es
    assert stored(runtime) == (0, 0)


def test_a_guardian_withdraws_collective_consent_only_for_their_own_ayllu(runtime):
    world = make_world(runtime)
    guardian = world.actors["guardian"]
    with runtime.db.transaction() as session:
        governance.withdraw_consent(
            session,
            guardian,
            project_id=world.project_id,
            layer="colectivo",
            ayllu=GUARDED_AYLLU,
            reason=REASON,
        )
    with pytest.raises(PermissionDeniedError), runtime.db.transaction() as session:
        governance.withdraw_consent(
            session,
            guardian,
            project_id=world.project_id,
            layer="colectivo",
            ayllu=OTHER_AYLLU,
            reason=REASON,
        )
    assert stored(runtime) == (1, 1)


def test_lifting_needs_the_same_right_and_a_withdrawal_of_this_project(runtime):
    world = make_world(runtime)
    record = practice(runtime, world.project_id, level="publico")
    with runtime.db.transaction() as session:
        wid = governance.withdraw_consent(
            session,
            world.actors["admin"],
            project_id=world.project_id,
            layer="individual",
            submission_id=record,
            reason=REASON,
        ).id
    with pytest.raises(PermissionDeniedError), runtime.db.transaction() as session:
        governance.lift_withdrawal(
            session, world.actors["guardian_otro"], world.project_id, wid, REASON
        )
    with (
        pytest.raises(ConsentWithdrawalNotFoundError),
        runtime.db.transaction() as session,
    ):
        governance.lift_withdrawal(
            session, world.actors["admin"], world.project_id + 1, wid, REASON
        )
    with runtime.db.transaction() as session:
        lifted = governance.lift_withdrawal(
            session, world.actors["guardian"], world.project_id, wid, REASON
        )
        assert lifted.lifted_by_id == world.actors["guardian"].id


def test_a_record_is_found_by_form_and_instance_id_without_showing_content(
    runtime,
):
    world = make_world(runtime)
    record = practice(runtime, world.project_id, level="sagrado")
    with runtime.db.read() as session:
        instance_id = session.scalar(
            sa.text("SELECT instance_id FROM submissions WHERE id = :id"),
            {"id": record},
        )
        found = governance.find_governed_submission(
            session, world.project_id, "practica_saber", instance_id
        )
        assert (found.submission_id, found.ayllu) == (record, GUARDED_AYLLU)
        with pytest.raises(ConsentWithdrawalInvalidError) as missing:
            governance.find_governed_submission(
                session, world.project_id, "practica_saber", "uuid:nada"
            )
        assert missing.value.es.startswith("No hay un envío «uuid:nada»")


def test_the_cli_records_lists_and_lifts_a_withdrawal_as_a_named_person(app, runtime):
    world = make_world(runtime)
    record = practice(runtime, world.project_id, level="publico")
    with runtime.db.read() as session:
        instance_id = session.scalar(
            sa.text("SELECT instance_id FROM submissions WHERE id = :id"),
            {"id": record},
        )
    runner = app.test_cli_runner()
    refused = runner.invoke(
        args=[
            "withdraw-consent",
            "--as",
            "analista",
            "--instance-id",
            instance_id,
            "--reason",
            REASON,
        ]
    )
    assert refused.exit_code == 1
    assert "custodia ese ayllu" in refused.output
    assert stored(runtime) == (0, 0)

    done = runner.invoke(
        args=[
            "withdraw-consent",
            "--as",
            "guardiana",
            "--instance-id",
            instance_id,
            "--reason",
            REASON,
        ]
    )
    assert done.exit_code == 0, done.output
    listed = runner.invoke(args=["list-withdrawals"])
    assert instance_id in listed.output
    assert "vigente" in listed.output
    assert "guardiana" in listed.output
    [withdrawal_id] = [int(line.split("\t")[0]) for line in listed.output.splitlines()]
    lifted = runner.invoke(
        args=[
            "lift-withdrawal",
            str(withdrawal_id),
            "--as",
            "admin",
            "--reason",
            "Otorgado de nuevo",
        ]
    )
    assert lifted.exit_code == 0, lifted.output
    assert "levantado" in runner.invoke(args=["list-withdrawals"]).output


def test_the_cli_needs_exactly_one_target(app, runtime):
    make_world(runtime)
    result = app.test_cli_runner().invoke(
        args=["withdraw-consent", "--as", "admin", "--reason", REASON]
    )
    assert result.exit_code == 2
    assert "--instance-id o --ayllu" in result.output
    assert stored(runtime) == (0, 0)

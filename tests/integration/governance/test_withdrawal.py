"""Consent withdrawal as server state (domain.md §4): it hides at once, a
collective withdrawal hides every record of the ayllu, lifting restores, every
step is in the audit log, and bad requests are refused clearly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.aggregates import service as aggregates
from app.db.models import AuditLog, ConsentWithdrawal, Project
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.governance import consent as governance
from app.governance.consent import (
    ConsentAlreadyLiftedError,
    ConsentAlreadyWithdrawnError,
    ConsentWithdrawalInvalidError,
    ConsentWithdrawalNotFoundError,
)
from tests.integration.governance.support import (
    GUARDED_AYLLU,
    OTHER_AYLLU,
    World,
    ingest,
    make_world,
    practice,
)


def practices_seen(runtime, world: World, kind: str = "guardian") -> int:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        rows = aggregates.practices_summary(
            session, world.project_id, world.viewer(kind)
        )
    return sum(row["practicas"] for row in rows)


def withdraw(runtime, world: World, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        withdrawal = governance.withdraw_consent(
            session,
            world.actors["admin"],
            project_id=world.project_id,
            **{"reason": "La portadora pidió retirar su saber.", **kwargs},
        )
        return withdrawal.id


def lift(runtime, world: World, withdrawal_id: int) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        governance.lift_withdrawal(
            session,
            world.actors["admin"],
            world.project_id,
            withdrawal_id,
            "El Chawkh Parla otorgó de nuevo el consentimiento (acta 12).",
        )


def audit(runtime, action: str) -> list[AuditLog]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(AuditLog)
                .where(AuditLog.action == action)
                .order_by(AuditLog.id)
            )
        )


def test_an_individual_withdrawal_hides_the_record_at_once_and_lifting_restores_it(
    runtime,
):
    world = make_world(runtime)
    kept = practice(runtime, world.project_id, level="publico")
    withdrawn = practice(runtime, world.project_id, level="publico")
    assert practices_seen(runtime, world) == 2

    wid = withdraw(runtime, world, layer="individual", submission_id=withdrawn)

    for kind in ("anonimo", "miembro", "admin", "guardian"):
        assert practices_seen(runtime, world, kind) == 1, kind
    entries = audit(runtime, "consent.withdraw")
    assert len(entries) == 1
    assert entries[0].actor_user_id == world.admin_id
    assert entries[0].target_type == "consent_withdrawal"
    assert entries[0].target_id == str(wid)
    assert entries[0].details["layer"] == "individual"
    assert entries[0].details["submission_id"] == withdrawn
    assert entries[0].details["xml_form_id"] == "practica_saber"
    assert entries[0].details["instance_id"].startswith("uuid:")
    assert entries[0].details["recorded_by_id"] == world.admin_id
    assert entries[0].details["reason"] == "La portadora pidió retirar su saber."
    assert kept != withdrawn

    lift(runtime, world, wid)

    assert practices_seen(runtime, world) == 2
    lifted = audit(runtime, "consent.lift")
    assert [e.details["reason"] for e in lifted] == [
        "El Chawkh Parla otorgó de nuevo el consentimiento (acta 12)."
    ]
    with runtime.db.read() as session:
        history = governance.list_withdrawals(session, world.project_id)
        active = governance.list_withdrawals(
            session, world.project_id, active_only=True
        )
    assert [(w.id, w.lifted_by_id) for w in history] == [(wid, world.admin_id)]
    assert history[0].lifted_at is not None
    assert active == []


def test_a_collective_withdrawal_hides_every_record_of_that_ayllu_only(runtime):
    world = make_world(runtime)
    for level in ("publico", "comunitario", "restringido", "sagrado"):
        practice(runtime, world.project_id, level=level, ayllu=GUARDED_AYLLU)
    practice(runtime, world.project_id, level="publico", ayllu=OTHER_AYLLU)
    assert practices_seen(runtime, world) == 5

    wid = withdraw(runtime, world, layer="colectivo", ayllu=GUARDED_AYLLU)

    with runtime.db.read() as session:
        rows = aggregates.practices_summary(
            session, world.project_id, world.viewer("guardian")
        )
    assert [(r["ayllu"], r["practicas"]) for r in rows] == [(OTHER_AYLLU, 1)]
    details = audit(runtime, "consent.withdraw")[0].details
    assert details["layer"] == "colectivo"
    assert details["ayllu"] == GUARDED_AYLLU

    lift(runtime, world, wid)
    assert practices_seen(runtime, world) == 5


def test_a_withdrawal_also_hides_what_the_record_added_to_exchanges(runtime):
    world = make_world(runtime)
    sid = practice(
        runtime,
        world.project_id,
        level="publico",
        origen="intercambio",
        extra={"contenido/origen_comunidad": "Pampa Aullagas"},
    )
    withdraw(runtime, world, layer="individual", submission_id=sid)

    with runtime.db.read() as session:
        result = aggregates.exchanges(
            session, world.project_id, world.viewer("guardian")
        )
    assert result["practicas"] == []
    assert result["resumen"][0]["practicas_contenido_no_visible"] == 0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"layer": "personal", "ayllu": GUARDED_AYLLU}, "layer"),
        ({"layer": "individual"}, "submission"),
        ({"layer": "individual", "ayllu": GUARDED_AYLLU}, "submission"),
        ({"layer": "colectivo"}, "ayllu"),
        ({"layer": "colectivo", "ayllu": "aransya"}, "Unknown ayllu"),
        ({"layer": "colectivo", "ayllu": GUARDED_AYLLU, "reason": "  "}, "reason"),
        ({"layer": "individual", "submission_id": 999999}, "No such submission"),
    ],
)
def test_a_withdrawal_without_a_valid_target_or_reason_is_refused(
    runtime, kwargs, words
):
    world = make_world(runtime)

    with pytest.raises(ConsentWithdrawalInvalidError) as raised:
        withdraw(runtime, world, **kwargs)

    assert isinstance(raised.value, InvalidInputError)
    assert words in raised.value.en
    assert raised.value.es != raised.value.en
    assert audit(runtime, "consent.withdraw") == []


def test_a_record_of_a_form_without_consent_cannot_be_withdrawn(runtime):
    world = make_world(runtime)
    sid = ingest(runtime, world.project_id, "necesidades_ayllu")

    with pytest.raises(ConsentWithdrawalInvalidError, match="no consent"):
        withdraw(runtime, world, layer="individual", submission_id=sid)


def test_a_record_of_another_project_cannot_be_withdrawn_here(runtime):
    world = make_world(runtime)
    sid = practice(runtime, world.project_id, level="publico")
    with runtime.db.transaction() as session:
        other = Project(name="Otro proyecto")
        session.add(other)
        session.flush()
        other_id = other.id

    with (
        runtime.db.transaction() as session,
        pytest.raises(ConsentWithdrawalInvalidError),
    ):
        governance.withdraw_consent(
            session,
            world.actors["admin"],
            project_id=other_id,
            layer="individual",
            submission_id=sid,
            reason="motivo",
        )


def test_withdrawing_twice_or_lifting_twice_is_a_conflict(runtime):
    world = make_world(runtime)
    sid = practice(runtime, world.project_id, level="publico")
    wid = withdraw(runtime, world, layer="individual", submission_id=sid)

    with pytest.raises(ConsentAlreadyWithdrawnError):
        withdraw(runtime, world, layer="individual", submission_id=sid)
    lift(runtime, world, wid)
    with pytest.raises(ConsentAlreadyLiftedError) as raised:
        lift(runtime, world, wid)
    assert isinstance(raised.value, ConflictError)
    # Once lifted, consent can be withdrawn again: a new row, a new audit entry.
    again = withdraw(runtime, world, layer="individual", submission_id=sid)
    assert again != wid
    assert len(audit(runtime, "consent.withdraw")) == 2


def test_lifting_an_unknown_withdrawal_is_not_found(runtime):
    world = make_world(runtime)
    with pytest.raises(ConsentWithdrawalNotFoundError) as raised:
        lift(runtime, world, 424242)
    assert isinstance(raised.value, NotFoundError)


def test_the_database_refuses_a_withdrawal_with_two_targets(runtime):
    world = make_world(runtime)
    sid = practice(runtime, world.project_id, level="publico")
    with pytest.raises(sa.exc.IntegrityError), runtime.db.transaction() as session:
        session.add(
            ConsentWithdrawal(
                project_id=world.project_id,
                submission_id=sid,
                ayllu=GUARDED_AYLLU,
                layer="individual",
                reason="x",
                recorded_by_id=world.admin_id,
            )
        )
        session.flush()

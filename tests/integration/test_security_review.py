"""The security review's items, each proved end to end on the real database:
sessions end on the server, password changes end every other session and
token, login costs the same for unknown users, passwords are judged as ODK
Central judges them, aggregate CSVs cannot run formulas in a spreadsheet, the
audit log page is for site administrators and never shows submission content,
the guardian warning, and `X-Forwarded-Proto` trusted only behind a proxy Ayni
is told to trust. Where a request is refused, nothing of it is stored.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from datetime import UTC, datetime

import pytest
import requests
import sqlalchemy as sa

from app.auth import accounts, passwords
from app.db.models import ApiSession, AuditLog, User
from tests.integration.governance.support import ingest, practice
from tests.server import LiveServer
from tests.support import ADMIN_PASSWORD, seed
from tests.web.support import PASSWORD, make_web_world, post_form, sign_in

OPENROSA = {"X-OpenRosa-Version": "1.0"}
STRONG = "la quinua crece junto al salar"  # zxcvbn score 4
WEAK = "password1234"  # zxcvbn score 1


@pytest.fixture
def world(runtime):  # type: ignore[no-untyped-def]
    return make_web_world(runtime)


# --- helpers -----------------------------------------------------------------------


def bearer_token(client, login: str, password: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/v1/sessions", json={"email": login, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]  # type: ignore[no-any-return]


def bearer_works(client, token: str) -> bool:  # type: ignore[no-untyped-def]
    response = client.get(
        "/v1/users/current", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code in (200, 401), response.status_code
    return response.status_code == 200


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    """Whether the console treats this browser as signed in (else: sign-in page)."""
    response = client.get("/projects")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def session_rows(runtime, username: str) -> int:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return session.scalar(  # type: ignore[no-any-return]
            sa.select(sa.func.count())
            .select_from(ApiSession)
            .join(User, User.id == ApiSession.user_id)
            .where(User.username == username)
        )


def audit_of(runtime, action: str) -> list[AuditLog]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(AuditLog)
                .where(AuditLog.action == action)
                .order_by(AuditLog.id)
            )
        )


def user_named(runtime, username: str) -> User | None:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return session.scalars(sa.select(User).where(User.username == username)).first()


def cli(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


# --- signing out ends the session on the server ------------------------------------


def test_signing_out_ends_the_session_on_the_server_so_a_kept_cookie_is_worthless(
    app, runtime, world
):
    browser = app.test_client()
    sign_in(browser, "coordinadora")
    kept = browser.get_cookie("ayni_session").value
    assert session_rows(runtime, "coordinadora") == 1

    response = post_form(browser, "/logout", {}, page="/projects")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not signed_in(browser)
    thief = app.test_client()
    thief.set_cookie("ayni_session", kept)
    answer = thief.get("/projects")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")
    assert session_rows(runtime, "coordinadora") == 0


# --- a password change ends every other session and every token --------------------


def coordinator_everywhere(app):  # type: ignore[no-untyped-def]
    """The coordinator signed in on two browsers and with a Bearer token."""
    laptop, other = app.test_client(), app.test_client()
    sign_in(laptop, "coordinadora")
    sign_in(other, "coordinadora")
    token = bearer_token(app.test_client(), "coordinadora@cdp.example", PASSWORD)
    assert signed_in(laptop) and signed_in(other)
    assert bearer_works(app.test_client(), token)
    return laptop, other, token


def test_changing_ones_own_password_ends_tokens_and_other_browsers_not_this_one(
    app, runtime, world
):
    laptop, other, token = coordinator_everywhere(app)
    assert session_rows(runtime, "coordinadora") == 3

    response = post_form(
        laptop,
        "/account/password",
        {"current": PASSWORD, "new": STRONG, "repeat": STRONG},
    )

    assert response.status_code == 302
    assert signed_in(laptop)  # the browser that changed it stays signed in
    assert not signed_in(other)
    api = app.test_client()
    assert not bearer_works(api, token)
    assert session_rows(runtime, "coordinadora") == 1  # the laptop's new one
    assert (
        api.post(
            "/v1/sessions", json={"email": "coordinadora", "password": PASSWORD}
        ).status_code
        == 401
    )
    assert bearer_works(api, bearer_token(api, "coordinadora", STRONG))


def test_an_administrators_reset_ends_every_session_and_token_of_that_user(
    app, runtime, world
):
    laptop, other, token = coordinator_everywhere(app)
    admin = app.test_client()
    sign_in(admin, "admin")
    page = f"/admin/users/{world.user_ids['coordinadora']}"

    response = post_form(admin, f"{page}/password", {"password": STRONG}, page=page)

    assert response.status_code == 200
    assert not signed_in(laptop)
    assert not signed_in(other)
    assert not bearer_works(app.test_client(), token)
    assert session_rows(runtime, "coordinadora") == 0
    assert signed_in(admin)  # the administrator's own session is not touched
    [entry] = audit_of(runtime, "user.password_reset")
    assert entry.actor_user_id == world.user_ids["admin"]
    assert entry.target_id == str(world.user_ids["coordinadora"])
    assert entry.details["sessions_ended"] == 3
    sign_in(app.test_client(), "coordinadora", STRONG)


def test_reset_password_on_the_command_line_ends_every_session_and_token(
    app, runtime, world
):
    laptop, other, token = coordinator_everywhere(app)

    result = cli(app, "reset-password", "coordinadora", "--password", STRONG)

    assert result.exit_code == 0, result.output
    assert not signed_in(laptop)
    assert not signed_in(other)
    assert not bearer_works(app.test_client(), token)
    assert session_rows(runtime, "coordinadora") == 0
    [entry] = audit_of(runtime, "user.password_reset")
    assert entry.actor_user_id is None  # the server's own command line
    assert entry.details["sessions_ended"] == 3
    sign_in(app.test_client(), "coordinadora", STRONG)


def test_a_refused_weak_new_password_changes_nothing_and_ends_no_session(
    app, runtime, world
):
    laptop, other, token = coordinator_everywhere(app)
    admin = app.test_client()
    sign_in(admin, "admin")
    page = f"/admin/users/{world.user_ids['coordinadora']}"

    response = post_form(admin, f"{page}/password", {"password": WEAK}, page=page)

    assert response.status_code == 422
    assert "puntaje 1 de 4" in response.get_data(as_text=True)
    assert signed_in(laptop) and signed_in(other)
    assert bearer_works(app.test_client(), token)
    assert audit_of(runtime, "user.password_reset") == []
    sign_in(app.test_client(), "coordinadora", PASSWORD)  # the old one still works


# --- an unknown login costs what a wrong password costs -----------------------------


class CountingHasher:
    """argon2's hasher, counting `verify` calls (its class has __slots__, so
    the method itself cannot be patched on the instance)."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.verified = 0

    def verify(self, hash: str, password: str) -> bool:
        self.verified += 1
        return self.real.verify(hash, password)  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("nadie-se-llama-asi", PASSWORD),  # no such user
        ("sin_clave", PASSWORD),  # a user with no password hash
        ("coordinadora", "no-es-la-clave-123"),  # a wrong password
    ],
    ids=["unknown", "no-password-hash", "wrong-password"],
)
def test_a_failed_login_costs_exactly_one_argon2_verification(
    runtime, world, monkeypatch, login, password
):
    with runtime.db.transaction() as session:
        session.add(
            User(username="sin_clave", email="sin_clave@cdp.example", display_name="S")
        )
    hasher = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)

    with runtime.db.read() as session:
        found = accounts.authenticate(session, login, password)

    assert found is None
    assert hasher.verified == 1


def test_a_right_password_costs_the_same_one_verification(runtime, world, monkeypatch):
    hasher = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)

    with runtime.db.read() as session:
        found = accounts.authenticate(session, "coordinadora", PASSWORD)

    assert found is not None and found.username == "coordinadora"
    assert hasher.verified == 1


# --- password strength, as ODK Central judges it ------------------------------------


def test_the_console_refuses_a_weak_password_naming_its_score_and_stores_nothing(
    client, runtime, world
):
    sign_in(client, "admin")
    created_before = len(audit_of(runtime, "user.create"))

    response = post_form(
        client, "/admin/users", {"username": "tecnico", "password": WEAK}
    )

    assert response.status_code == 422
    assert "puntaje 1 de 4" in response.get_data(as_text=True)
    english = post_form(
        client, "/admin/users?lang=en", {"username": "tecnico", "password": WEAK}
    )
    assert english.status_code == 422
    assert "score 1 of 4" in english.get_data(as_text=True)
    assert user_named(runtime, "tecnico") is None
    assert len(audit_of(runtime, "user.create")) == created_before


def test_the_console_accepts_a_strong_passphrase(app, client, runtime, world):
    sign_in(client, "admin")

    response = post_form(
        client, "/admin/users", {"username": "tecnico", "password": STRONG}
    )

    assert response.status_code == 200
    assert 'data-testid="new-password"' not in response.get_data(as_text=True)
    assert user_named(runtime, "tecnico") is not None
    sign_in(app.test_client(), "tecnico", STRONG)


def test_create_user_refuses_a_weak_password_naming_its_score_and_stores_nothing(
    app, runtime, world
):
    result = cli(app, "create-user", "tecnico", "--password", WEAK)

    assert result.exit_code == 1
    assert "puntaje 1 de 4" in result.output
    assert "score 1 of 4" in result.output
    assert user_named(runtime, "tecnico") is None


def test_create_user_accepts_a_strong_passphrase_and_a_generated_password(
    app, runtime, world
):
    strong = cli(app, "create-user", "tecnico", "--password", STRONG)
    generated = cli(app, "create-user", "tecnica")

    assert strong.exit_code == 0, strong.output
    assert generated.exit_code == 0, generated.output
    password = re.search(r"Contraseña / Password: (\S+)", generated.output).group(1)
    sign_in(app.test_client(), "tecnico", STRONG)
    sign_in(app.test_client(), "tecnica", password)


def test_a_generated_password_always_passes_the_strength_check():
    for _ in range(25):
        strength = passwords.judge_password(passwords.generate_password())
        assert strength.acceptable
        assert strength.score >= passwords.MIN_SCORE


# --- aggregate CSVs neutralise spreadsheet formulas ---------------------------------

FORMULAS = ('=HYPERLINK("http://x","y")', "+cmd", "@SUM(A1)")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def agreement(text: str, responsable: str) -> dict[str, str]:
    # Overdue (a past deadline, pending), so the text shows in `vencidos`.
    return {
        "acuerdo": text,
        "responsable": responsable,
        "plazo": "2025-01-15",
        "estado": "pendiente",
    }


def meeting_with_formulas(runtime, project_id: int) -> None:  # type: ignore[no-untyped-def]
    ingest(
        runtime,
        project_id,
        "reunion_cdp",
        {"fecha": "2025-01-05", "tipo_reunion": "mesa", "mesa": "produccion"},
        {
            "acuerdos": [
                agreement(FORMULAS[0], "+cmd"),
                agreement("@SUM(A1)", "-15"),
                agreement("-3.5", "Juana Mamani"),
            ]
        },
    )


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_formulas_neutralised(text: str) -> None:
    cells = csv_cells(text)
    for formula in FORMULAS:
        assert "'" + formula in cells
        assert formula not in cells
    # No cell a spreadsheet would run; plain negative numbers are kept as they are.
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert _PLAIN_NUMBER.fullmatch(cell), cell
    assert "-15" in cells
    assert "-3.5" in cells


def test_the_agreements_csv_of_the_api_neutralises_formulas(client, runtime, world):
    meeting_with_formulas(runtime, world.project_id)
    token = bearer_token(client, "admin@localhost", ADMIN_PASSWORD)
    auth = {"Authorization": f"Bearer {token}"}

    response = client.get(
        f"/v1/projects/{world.project_id}/aggregates/acuerdos.csv", headers=auth
    )

    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    assert_formulas_neutralised(response.get_data(as_text=True))
    # JSON is not bound for a spreadsheet: it keeps the text as written.
    raw = client.get(
        f"/v1/projects/{world.project_id}/aggregates/acuerdos", headers=auth
    ).get_json()
    texts = {row["acuerdo"] for row in raw["vencidos"]}
    assert texts == {FORMULAS[0], "@SUM(A1)", "-3.5"}
    assert {row["responsable"] for row in raw["vencidos"]} == {
        "+cmd",
        "-15",
        "Juana Mamani",
    }


def test_the_aggregate_command_neutralises_formulas_in_csv_not_in_json(
    app, runtime, world
):
    meeting_with_formulas(runtime, world.project_id)

    as_csv = cli(app, "aggregate", "acuerdos", "--format", "csv")
    as_json = cli(app, "aggregate", "acuerdos", "--format", "json")

    assert as_csv.exit_code == 0, as_csv.output
    assert_formulas_neutralised(as_csv.output)
    assert as_json.exit_code == 0, as_json.output
    overdue = json.loads(as_json.output)["vencidos"]
    assert {row["acuerdo"] for row in overdue} == {FORMULAS[0], "@SUM(A1)", "-3.5"}


# --- the audit log page ------------------------------------------------------------

SECRET = "palabra-secreta-wila-q'ara"
SACRED_SECRET = "rito-secreto-del-cerro"
_ROW = re.compile(r"<tr>\s*<td>.*?</tr>", re.S)
_ACTION = re.compile(r"<code>([^<]+)</code>")


def audit_rows(client, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    """Every row of the audit log page (all pages) for `query`."""
    rows: list[str] = []
    page = 1
    while True:
        sep = "&" if query else ""
        response = client.get(f"/admin/audit?{query}{sep}page={page}")
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        rows.extend(_ROW.findall(text))
        if 'rel="next"' not in text:
            return rows
        page += 1


def actions_in(rows: list[str]) -> list[str]:
    return [_ACTION.search(row).group(1) for row in rows]  # type: ignore[union-attr]


def test_a_guardian_grant_in_the_console_shows_in_the_audit_log_with_who_did_it(
    client, runtime, world
):
    sign_in(client, "admin")
    user_id = world.user_ids["analista"]
    page = f"/admin/users/{user_id}"

    response = post_form(
        client,
        f"{page}/roles",
        {"role": "guardian", "project_id": "1", "ayllu": "manasaya"},
        page=page,
    )

    assert response.status_code == 302
    rows = audit_rows(client, "action=role.assign")
    by_admin = [row for row in rows if "Administrador/a" in row]
    assert len(by_admin) == 1
    [row] = by_admin
    assert "<code>role.assign</code>" in row
    assert '<span class="muted">role</span> guardian' in row
    assert '<span class="muted">ayllu</span> manasaya' in row
    assert f'<span class="muted">user_id</span> {user_id}' in row


@pytest.mark.parametrize("username", ["coordinadora", "analista"])
def test_the_audit_log_is_refused_to_managers_and_analysts(client, world, username):
    sign_in(client, username)

    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit?action=role.assign").status_code == 403


def test_the_action_and_date_filters_narrow_the_audit_log(client, runtime, world):
    # The analyst's account was made on a known Bolivian day (11:00 in La Paz).
    with runtime.db.transaction() as session:
        session.execute(
            sa.update(AuditLog)
            .where(
                AuditLog.action == "user.create",
                AuditLog.target_id == str(world.user_ids["analista"]),
            )
            .values(created_at=datetime(2025, 3, 10, 15, 0, tzinfo=UTC))
        )
    sign_in(client, "admin")
    everything = actions_in(audit_rows(client))

    assigned = actions_in(audit_rows(client, "action=role.assign"))
    that_day = audit_rows(client, "since=2025-03-10&until=2025-03-10")
    before = audit_rows(client, "until=2025-03-09")
    after = actions_in(audit_rows(client, "since=2025-03-11"))
    created_after = actions_in(
        audit_rows(client, "action=user.create&since=2025-03-11")
    )

    assert set(everything) > {"role.assign", "user.create"}
    assert assigned == ["role.assign"] * everything.count("role.assign")
    assert len(assigned) < len(everything)
    assert actions_in(that_day) == ["user.create"]
    assert f"<td>user {world.user_ids['analista']}</td>" in that_day[0]
    assert before == []
    assert len(after) == len(everything) - 1
    assert created_after == ["user.create"] * (everything.count("user.create") - 1)
    page = client.get("/admin/audit?until=2025-03-09").get_data(as_text=True)
    assert "0 entradas." in page
    assert "Ninguna entrada con estos filtros." in page


def test_the_audit_log_never_shows_submission_content(client, runtime, world):
    practice(
        runtime,
        world.project_id,
        level="restringido",
        extra={"contenido/descripcion": SECRET},
    )
    # A sacred practice whose content came anyway: ingest drops it and says so
    # in the log, naming the elements, never their text.
    practice(
        runtime,
        world.project_id,
        level="sagrado",
        extra={"contenido/descripcion": SACRED_SECRET},
    )
    sign_in(client, "admin")

    for query in ("", "action=submission", "action=submission.create"):
        rows = audit_rows(client, query)
        assert rows
        page = html.unescape("".join(rows))
        assert SECRET not in page
        assert SACRED_SECRET not in page
        assert "wila" not in page
    assert "submission.create" in actions_in(audit_rows(client))


# --- the guardian warning on the user page ------------------------------------------

_WARNING = re.compile(r'data-testid="guardian-warning">(.*?)</p>', re.S)


def guardian_warning(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200
    found = _WARNING.search(response.get_data(as_text=True))
    assert found, "no guardian warning"
    return html.unescape(found.group(1))


def test_the_user_page_warns_who_may_be_named_guardian_in_spanish_and_english(
    client, world
):
    sign_in(client, "admin")
    page = f"/admin/users/{world.user_ids['analista']}"

    spanish = guardian_warning(client, page)
    english = guardian_warning(client, f"{page}?lang=en")

    assert spanish.startswith(
        "Nombre custodio/a de un ayllu solo a quien sus autoridades (jilakata y "
        "mama t'alla, o el Chawkh Parla) hayan designado"
    )
    assert "queda en la bitácora de auditoría" in spanish
    assert english.startswith(
        "Name as an ayllu's guardian only someone its authorities (jilakata and "
        "mama t'alla, or the Chawkh Parla) have designated"
    )
    assert "kept in the audit log" in english


# --- X-Forwarded-Proto only behind a trusted proxy, on a real server ----------------


def basic(login: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def challenges(response: requests.Response) -> list[str]:
    """The schemes of each WWW-Authenticate header (requests joins them)."""
    return [c.split()[0] for c in response.raw.headers.getlist("WWW-Authenticate")]


@pytest.mark.server
def test_forwarded_https_from_the_laptop_itself_is_ignored_without_a_trusted_proxy(
    live_server, runtime
):
    seed(runtime)
    https = {**OPENROSA, "X-Forwarded-Proto": "https"}
    url = f"{live_server.url}/formList"

    bare = requests.get(url, headers=https, timeout=10)
    with_basic = requests.get(
        url, headers={**https, **basic("admin", ADMIN_PASSWORD)}, timeout=10
    )

    assert bare.status_code == 401
    assert challenges(bare) == ["Digest"]
    assert with_basic.status_code == 401
    assert challenges(with_basic) == ["Digest"]


@pytest.mark.server
def test_forwarded_https_offers_and_accepts_basic_behind_a_trusted_proxy(
    settings, runtime
):
    seed(runtime)
    server = LiveServer(settings.with_(trusted_proxy=True)).start()
    try:
        https = {**OPENROSA, "X-Forwarded-Proto": "https"}
        url = f"{server.url}/formList"
        bare = requests.get(url, headers=https, timeout=10)
        plain = requests.get(url, headers=OPENROSA, timeout=10)
        ok = requests.get(
            url, headers={**https, **basic("admin", ADMIN_PASSWORD)}, timeout=10
        )
    finally:
        server.stop()

    assert bare.status_code == 401
    assert challenges(bare) == ["Basic", "Digest"]
    assert challenges(plain) == ["Digest"]  # plain HTTP still gets Digest only
    assert ok.status_code == 200, server.log_text()[-2000:]
    assert b"encuesta" in ok.content

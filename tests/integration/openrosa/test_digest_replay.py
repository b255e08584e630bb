"""Digest replay protection against the real database: Collect's pre-emptive
reuse of a nonce with a growing `nc` keeps working, while a captured header
sent again (with any body, to any worker) is refused with `stale=true`, stores
nothing and is not counted as a failed login.

Headers are built here with hashlib (RFC 2617, qop=auth) and challenges parsed
with a regular expression, never with `app.auth.digest`.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from lxml import etree

from app.auth import nonces
from app.auth.digest import challenge  # the server's challenge, for a fixed second
from app.db.models import DigestNonceUse, LoginThrottle, SubmissionVersion
from app.db.types import utcnow
from tests.server import LiveServer
from tests.support import ADMIN_PASSWORD, counts, encuesta_xml, new_instance_id, seed

OPENROSA = {"X-OpenRosa-Version": "1.0"}
OPENROSA_RESPONSE = "{http://openrosa.org/http/response}"
# Collect appends its device id to every URL (openrosa.md §5: the signed `uri`).
SUBMISSION = "/submission?deviceID=collect%3AABCDEF0123456789"
FORM_LIST = "/formList?deviceID=collect%3AABCDEF0123456789"
CLIENT_KEY = "ip:127.0.0.1"  # the test client's and the live server's client
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def challenge_params(challenge: str) -> dict[str, str]:
    """The auth-params of one `WWW-Authenticate: Digest …` value."""
    assert challenge.startswith("Digest "), challenge
    return {
        name.lower(): quoted if token == "" else token
        for name, quoted, token in _PARAM.findall(challenge[len("Digest ") :])
    }


def digest_header(
    challenge: str,
    method: str,
    uri: str,
    *,
    nc: str = "00000001",
    cnonce: str = "0a4f113b",
    qop: str | None = "auth",
    login: str = "admin",
    password: str = ADMIN_PASSWORD,
) -> str:
    """What okhttp-digest answers to a challenge (RFC 2617 §3.2.2).

    `qop=None` is RFC 2069's legacy form: no qop, nc or cnonce. `nc` goes out
    as given, so a malformed one is still correctly signed.
    """
    params = challenge_params(challenge)
    nonce = params["nonce"]
    ha1 = _md5(f"{login}:{params['realm']}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    header = f'Digest username="{login}", realm="{params["realm"]}", '
    header += f'nonce="{nonce}", uri="{uri}", '
    if qop is None:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
        header += f'response="{response}", '
    else:
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        header += f'response="{response}", qop={qop}, nc={nc}, cnonce="{cnonce}", '
    return header + f'algorithm=MD5, opaque="{params.get("opaque", "")}"'


@dataclass
class Tablet:
    """Collect after one challenge: the same nonce, opaque and cnonce for
    every request, with `nc` counting up (openrosa.md §5)."""

    challenge: str
    cnonce: str = "6d9a4b1e"
    sent: int = field(default=0)

    def header(self, method: str, uri: str, nc: int | None = None) -> str:
        if nc is None:
            self.sent += 1
            nc = self.sent
        return digest_header(
            self.challenge, method, uri, nc=f"{nc:08x}", cnonce=self.cnonce
        )


def form(xml: bytes) -> dict[str, tuple[io.BytesIO, str, str]]:
    """A Collect-like multipart body (the Flask test client's shape)."""
    return {"xml_submission_file": (io.BytesIO(xml), "i.xml", "text/xml")}


def challenge_from(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    values = response.headers.getlist("WWW-Authenticate")
    assert len(values) == 1, values  # over plain HTTP only Digest is offered
    return values[0]


def assert_stale_refusal(response, *, body: bool = True) -> str:  # type: ignore[no-untyped-def]
    """A 401 whose new Digest challenge says `stale=true`; returns it."""
    challenge = challenge_from(response)
    assert challenge_params(challenge).get("stale") == "true", challenge
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    if body:
        assert response.headers["Content-Type"].startswith("text/xml")
        root = etree.fromstring(response.data)
        assert root.tag == f"{OPENROSA_RESPONSE}OpenRosaResponse"
        message = root.find(f"{OPENROSA_RESPONSE}message")
        assert message is not None
        assert message.get("nature") == "error"
    return challenge


def throttle_row(runtime) -> tuple | None:  # type: ignore[no-untyped-def]
    """(failures, window_start, locked_until) of this client, if any."""
    with runtime.db.read() as session:
        row = session.execute(
            sa.select(
                LoginThrottle.failures,
                LoginThrottle.window_start,
                LoginThrottle.locked_until,
            ).where(LoginThrottle.client_key == CLIENT_KEY)
        ).first()
        return tuple(row) if row is not None else None


def failures(runtime) -> int:  # type: ignore[no-untyped-def]
    row = throttle_row(runtime)
    return 0 if row is None else int(row[0])


def nonce_uses(runtime) -> set[tuple[str, int]]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        rows = session.execute(sa.select(DigestNonceUse.nonce, DigestNonceUse.nc))
        return {(nonce, nc) for nonce, nc in rows}


@pytest.fixture
def seeded(runtime):  # type: ignore[no-untyped-def]
    return seed(runtime)


@pytest.fixture
def tablet(client, seeded) -> Tablet:  # type: ignore[no-untyped-def]
    """Challenged once, on a bare HEAD /submission, as Collect is."""
    return Tablet(challenge_from(client.head(SUBMISSION, headers=OPENROSA)))


def _post(client, header: str, instance_id: str | None = None):  # type: ignore[no-untyped-def]
    xml = encuesta_xml(instance_id or new_instance_id())
    return client.post(
        SUBMISSION, data=form(xml), headers={**OPENROSA, "Authorization": header}
    )


# --- Collect's own traffic keeps working -------------------------------------


def test_collect_reuses_one_nonce_with_a_growing_nc_for_head_posts_and_form_list(
    client, runtime, tablet
):
    before = counts(runtime)
    head = client.head(
        SUBMISSION,
        headers={**OPENROSA, "Authorization": tablet.header("HEAD", SUBMISSION)},
    )
    assert head.status_code == 204
    for _ in range(2):
        posted = _post(client, tablet.header("POST", SUBMISSION))
        assert posted.status_code == 201, posted.data
    listed = client.get(
        FORM_LIST,
        headers={**OPENROSA, "Authorization": tablet.header("GET", FORM_LIST)},
    )
    assert listed.status_code == 200
    assert b"encuesta" in listed.data
    assert tablet.sent == 4
    after = counts(runtime)
    assert after["submissions"] == before["submissions"] + 2
    assert failures(runtime) == 0


def test_requests_with_one_nonce_may_arrive_out_of_order(client, tablet):
    def get(nc: int):  # type: ignore[no-untyped-def]
        header = tablet.header("GET", FORM_LIST, nc=nc)
        return client.get(FORM_LIST, headers={**OPENROSA, "Authorization": header})

    assert get(1).status_code == 200
    assert get(3).status_code == 200  # overtook nc 2 on another connection
    assert get(2).status_code == 200
    assert_stale_refusal(get(2))  # but each nc only once


def test_two_tablets_challenged_in_the_same_second_may_both_use_nc_1(
    client, seeded, runtime, settings
):
    # Whether two bare requests share a second is up to the clock, so the
    # server's challenges are made for one fixed second (its nonce timestamp).
    second = float(int(time.time()))
    first = challenge(settings.secret_key, now=second)
    other = challenge(settings.secret_key, now=second)
    nonce_1, nonce_2 = (challenge_params(c)["nonce"] for c in (first, other))
    assert nonce_1.split(".")[0] == nonce_2.split(".")[0]
    assert nonce_1 != nonce_2
    for tablet_challenge in (first, other):
        header = digest_header(tablet_challenge, "GET", FORM_LIST, nc="00000001")
        listed = client.get(FORM_LIST, headers={**OPENROSA, "Authorization": header})
        assert listed.status_code == 200
    with runtime.db.read() as session:
        used = session.scalars(
            sa.select(DigestNonceUse.nonce).where(DigestNonceUse.nc == 1)
        ).all()
    assert sorted(used) == sorted([nonce_1, nonce_2])


# --- a captured header sent again -------------------------------------------


def test_a_captured_post_header_sent_with_another_body_is_401_stale_and_stored_nothing(
    client, runtime, tablet
):
    header = tablet.header("POST", SUBMISSION)
    first = new_instance_id()
    assert _post(client, header, first).status_code == 201
    before = counts(runtime)
    other = new_instance_id()
    replay = _post(client, header, other)
    new_nonce = challenge_params(assert_stale_refusal(replay))["nonce"]
    assert new_nonce != challenge_params(tablet.challenge)["nonce"]
    assert _post(client, header, first).status_code == 401  # even the same body
    assert counts(runtime) == before
    with runtime.db.read() as session:
        stored = session.scalars(sa.select(SubmissionVersion.instance_id)).all()
    assert other not in stored


@pytest.mark.parametrize(
    ("method", "uri", "status"),
    [("GET", FORM_LIST, 200), ("HEAD", SUBMISSION, 204)],
)
def test_replaying_a_captured_form_list_or_head_header_is_401_stale(
    client, runtime, tablet, method, uri, status
):
    headers = {**OPENROSA, "Authorization": tablet.header(method, uri)}
    assert client.open(uri, method=method, headers=headers).status_code == status
    before = counts(runtime)
    replay = client.open(uri, method=method, headers=headers)
    assert_stale_refusal(replay, body=method != "HEAD")
    if method == "HEAD":
        assert replay.data == b""
    assert counts(runtime) == before


def test_a_replay_is_not_counted_as_a_failed_login(client, runtime, settings, tablet):
    wrong = digest_header(
        tablet.challenge, "GET", FORM_LIST, nc="00000001", password="contraseña-mala"
    )
    refused = client.get(FORM_LIST, headers={**OPENROSA, "Authorization": wrong})
    assert refused.status_code == 401
    assert failures(runtime) == 1  # the throttle row exists and counts
    header = tablet.header("POST", SUBMISSION)
    assert _post(client, header).status_code == 201
    row = throttle_row(runtime)
    # More replays than the throttle allows failures: none is a 429.
    for _ in range(settings.login_attempts_per_minute + 2):
        assert_stale_refusal(_post(client, header))
    assert throttle_row(runtime) == row


def test_after_a_refused_replay_collect_answers_the_new_challenge_and_succeeds(
    client, runtime, tablet
):
    header = tablet.header("POST", SUBMISSION)
    assert _post(client, header).status_code == 201
    instance_id = new_instance_id()
    renewed = assert_stale_refusal(_post(client, header, instance_id))
    # Collect resends with the new nonce, counting from 1 again.
    fresh = digest_header(renewed, "POST", SUBMISSION, nc="00000001", cnonce="77")
    before = counts(runtime)
    assert _post(client, fresh, instance_id).status_code == 201
    assert counts(runtime)["submissions"] == before["submissions"] + 1
    # And keeps reusing that nonce pre-emptively.
    again = Tablet(renewed, cnonce="77", sent=1).header("POST", SUBMISSION)
    assert _post(client, again).status_code == 201


# --- malformed headers are failed logins -------------------------------------


@pytest.mark.parametrize(
    ("nc", "qop", "cnonce"),
    [
        pytest.param("1", "auth", "0a4f113b", id="nc-too-short"),
        pytest.param("000000001", "auth", "0a4f113b", id="nc-too-long"),
        pytest.param("0000000g", "auth", "0a4f113b", id="nc-not-hex"),
        pytest.param("+0000001", "auth", "0a4f113b", id="nc-signed"),
        pytest.param("00000001", None, "", id="no-qop-rfc-2069"),
    ],
)
def test_a_header_without_qop_or_with_a_malformed_nc_is_a_failed_login(
    client, runtime, tablet, nc, qop, cnonce
):
    header = digest_header(
        tablet.challenge, "GET", FORM_LIST, nc=nc, qop=qop, cnonce=cnonce
    )
    refused = client.get(FORM_LIST, headers={**OPENROSA, "Authorization": header})
    assert "stale" not in challenge_params(challenge_from(refused))
    assert failures(runtime) == 1
    assert nonce_uses(runtime) == set()


def test_qop_auth_without_nc_and_cnonce_is_a_failed_login(client, runtime, tablet):
    params = challenge_params(tablet.challenge)
    ha1 = _md5(f"admin:Ayni:{ADMIN_PASSWORD}")
    response = _md5(f"{ha1}:{params['nonce']}:{_md5(f'GET:{FORM_LIST}')}")
    header = (
        f'Digest username="admin", realm="Ayni", nonce="{params["nonce"]}", '
        f'uri="{FORM_LIST}", response="{response}", qop=auth, algorithm=MD5'
    )
    refused = client.get(FORM_LIST, headers={**OPENROSA, "Authorization": header})
    assert "stale" not in challenge_params(challenge_from(refused))
    assert failures(runtime) == 1
    assert nonce_uses(runtime) == set()


# --- across workers and processes --------------------------------------------


def _live_post(url: str, header: str, instance_id: str) -> requests.Response:
    files = [("xml_submission_file", ("i.xml", encuesta_xml(instance_id), "text/xml"))]
    return requests.post(
        url,
        files=files,
        headers={**OPENROSA, "Authorization": header},
        timeout=30,
    )


def live_challenge(url: str) -> str:
    """The challenge a bare HEAD gets from the live server, as Collect's first."""
    response = requests.head(url, headers=OPENROSA, timeout=30)
    assert response.status_code == 401
    return response.headers["WWW-Authenticate"]


def _at_once(count: int, send: Callable[[int], requests.Response]) -> list:
    gate = threading.Barrier(count)

    def fire(index: int) -> requests.Response:
        gate.wait()
        return send(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(fire, range(count)))


def _stored_instance_ids(runtime) -> set[str]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return set(session.scalars(sa.select(SubmissionVersion.instance_id)).all())


@pytest.mark.server
def test_a_captured_header_replayed_concurrently_to_two_workers_is_always_refused(
    seeded, runtime, live_server
):
    url = f"{live_server.url}{SUBMISSION}"
    tablet = Tablet(live_challenge(url))
    header = tablet.header("POST", SUBMISSION)
    original = new_instance_id()
    assert _live_post(url, header, original).status_code == 201
    before = counts(runtime)
    others = [new_instance_id() for _ in range(10)]
    replies = _at_once(10, lambda i: _live_post(url, header, others[i]))
    statuses = [reply.status_code for reply in replies]
    assert statuses == [401] * 10, live_server.log_text()[-2000:]
    for reply in replies:
        assert "stale=true" in reply.headers["WWW-Authenticate"]
    assert counts(runtime) == before
    assert _stored_instance_ids(runtime) == {original}
    assert throttle_row(runtime) is None  # no failed login was counted


@pytest.mark.server
def test_the_same_new_header_sent_twice_at_once_to_two_workers_is_accepted_once(
    seeded, runtime, settings
):
    # One thread per worker: two simultaneous requests are two processes.
    server = LiveServer(settings, workers=2, threads=1).start()
    try:
        url = f"{server.url}{SUBMISSION}"
        tablet = Tablet(live_challenge(url))
        winners = set()
        for _ in range(10):
            header = tablet.header("POST", SUBMISSION)
            pair = [new_instance_id(), new_instance_id()]
            replies = _at_once(2, lambda i, h=header, p=pair: _live_post(url, h, p[i]))
            statuses = sorted(r.status_code for r in replies)
            assert statuses == [201, 401], server.log_text()[-2000:]
            loser = next(r for r in replies if r.status_code == 401)
            assert "stale=true" in loser.headers["WWW-Authenticate"]
            winners |= {
                iid
                for iid, r in zip(pair, replies, strict=True)
                if r.status_code == 201
            }
    finally:
        server.stop()
    assert _stored_instance_ids(runtime) == winners
    assert len(winners) == 10
    assert throttle_row(runtime) is None


# --- old uses are forgotten --------------------------------------------------


def test_a_new_nonce_first_use_purges_uses_older_than_keep_and_keeps_young_ones(
    runtime,
):
    now = utcnow()
    old = now - nonces.KEEP - timedelta(seconds=1)
    young = now - nonces.KEEP + timedelta(minutes=1)
    with runtime.db.transaction() as session:
        assert nonces.claim(session, "old-nonce", 1, now=old)
        assert nonces.claim(session, "old-nonce", 7, now=old)
        assert nonces.claim(session, "young-nonce", 3, now=young)
    assert len(nonce_uses(runtime)) == 3
    with runtime.db.transaction() as session:
        assert nonces.claim(session, "new-nonce", 1, now=now)
    assert nonce_uses(runtime) == {("young-nonce", 3), ("new-nonce", 1)}


def test_each_use_of_a_nonce_is_claimed_once(runtime):
    now = utcnow()
    with runtime.db.transaction() as session:
        assert nonces.claim(session, "a-nonce", 1, now=now)
        assert not nonces.claim(session, "a-nonce", 1, now=now)
        assert nonces.claim(session, "a-nonce", 2, now=now)
    with runtime.db.transaction() as session:
        assert not nonces.claim(session, "a-nonce", 2, now=now)
    assert nonce_uses(runtime) == {("a-nonce", 1), ("a-nonce", 2)}

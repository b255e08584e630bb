"""The OData tests' world: the CdP's meeting form (`reunion_cdp`: groups, a
geopoint, four repeats) with three meetings sent by the site admin from a
tablet called `collect:mesa`, newest last; an analyst of the project."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.api.odata.support import MEETING, Headers, meeting_xml, send
from tests.api.submissions.support import publish_cdp_forms


@dataclass(frozen=True)
class Meetings:
    project_id: int
    admin_id: int
    admin: Headers
    analyst: Headers
    token: str  # a tablet's (an app user)
    ids: tuple[str, ...]  # as sent, oldest first

    @property
    def newest_first(self) -> list[str]:
        return list(reversed(self.ids))


@pytest.fixture
def meetings(client, runtime, seeded, admin_headers, person) -> Meetings:  # type: ignore[no-untyped-def]
    publish_cdp_forms(runtime, seeded.project_id, MEETING)
    ids = []
    for topic in ("Riego", "Semillas", "Tejidos"):
        xml, _instance_id = meeting_xml(topic)
        ids.append(
            send(
                client,
                admin_headers,
                seeded.project_id,
                MEETING,
                xml,
                deviceID="collect:mesa",
            )
        )
    return Meetings(
        seeded.project_id,
        seeded.admin_id,
        admin_headers,
        person("analista", "analyst"),
        seeded.token,
        tuple(ids),
    )

"""`python -m app.db.wait_for URL`: exit 0 when the database answers, else 1.

Used by `make test-postgres` to fail early with instructions instead of a wall
of connection errors.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from app.config import normalize_database_url


def main(url: str) -> int:
    engine = sa.create_engine(
        normalize_database_url(url), connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

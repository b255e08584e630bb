"""gunicorn settings for `make run` and the grown deployment.

Everything comes from the environment (HOST, PORT, WORKERS, THREADS), like the
app's own Settings. Threads per worker let a slow tablet upload over a weak link
without blocking the other tablets.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from app.config import env_flag
from app.logredact import redact

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
# Collect's read/write timeout is 60 s (openrosa.md §2); give uploads longer.
timeout = 120
graceful_timeout = 30
accesslog = os.environ.get("ACCESS_LOG", "-")
# No control socket (gunicorn >= 25): several servers on one machine (tests,
# benchmarks, two projects on one laptop) would share its default path under
# $HOME, and Ayni does not use it.
control_socket_disable = True
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# X-Forwarded-Proto and friends count only behind a proxy Ayni is told to
# trust (TRUSTED_PROXY=1, as the app's own Settings). gunicorn's default
# trusts them from 127.0.0.1, so anyone on the laptop itself could make a
# plain-HTTP request look like HTTPS and be offered Basic authentication.
_TRUSTED_PROXY = env_flag(os.environ.get("TRUSTED_PROXY", "0"))
forwarded_allow_ips = (
    os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if _TRUSTED_PROXY else ""
)
secure_scheme_headers = (
    {
        "X-FORWARDED-PROTOCOL": "ssl",
        "X-FORWARDED-PROTO": "https",
        "X-FORWARDED-SSL": "on",
    }
    if _TRUSTED_PROXY
    else {}
)


class RedactingLogger(Logger):
    """Access log without app-user tokens in request lines and URLs."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


logger_class = RedactingLogger

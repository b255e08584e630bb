"""Errors as a readable HTML page for people using a browser.

Rendered by the app-level handler for every non-API path, including routing
404s that never reach the console's blueprint, so the page needs nothing but
the status and the message. It uses the console's stylesheet and layout when
the templates can be rendered, and falls back to a bare page otherwise (an
error while rendering an error must still answer).
"""

from __future__ import annotations

import logging

from flask import Response, render_template, render_template_string

log = logging.getLogger(__name__)

_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ status }} · Ayni</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto;">
<h1>{{ status }}</h1><p>{{ detail }}</p><p><a href="/">Ayni</a></p>
</body></html>"""


def error_page(status: int, detail: str, lang: str = "es") -> Response:
    try:
        html = render_template(
            "web/error.html", status=status, detail=detail, lang=lang
        )
    except Exception:  # the error page must always answer
        log.exception("could not render the error page; using the bare one")
        html = render_template_string(_PAGE, status=status, detail=detail, lang=lang)
    return Response(html, status=status, mimetype="text/html")

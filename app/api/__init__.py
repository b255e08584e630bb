"""The REST API in ODK Central's v1 shapes, plus `/healthz`."""

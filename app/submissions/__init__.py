"""Submission ingest: instance XML parsing, attachments and the resend rules."""

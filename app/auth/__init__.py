"""Accounts and credentials: web users, app users, roles, sessions, Digest."""

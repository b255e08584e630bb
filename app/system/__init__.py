"""Whole-system services: health checks and first-start bootstrap."""

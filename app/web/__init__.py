"""The web console (server-rendered HTML, Spanish first)."""

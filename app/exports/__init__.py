"""Exports: Central-compatible CSV zip, labelled XLSX, GeoJSON and JSON lines."""

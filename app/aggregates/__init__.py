"""Planning aggregates (domain.md §6): figures for the CdP, after governance."""

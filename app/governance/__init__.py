"""Knowledge governance (domain.md §4): the one place that decides what of a
record may be stored, shown or exported."""

"""marshmallow schemas of the API, one module per group of Central's
endpoints; `common` holds what they all share (dates, the strict key rules)."""

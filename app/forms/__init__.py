"""The form registry: XLSForm compilation, XForm parsing and publishing."""

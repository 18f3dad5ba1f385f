"""Files that `tests/test_typing.py` type-checks with `mypy --strict` (never imported by pytest)."""

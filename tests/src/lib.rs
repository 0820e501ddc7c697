//! Integration tests for picoauth live in `tests/tests/`; fixtures in `tests/fixtures/`.

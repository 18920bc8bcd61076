"""Helpers shared by test modules (imported as `support.<module>`, like conftest and samples)."""

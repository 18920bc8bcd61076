"""Anonymizing buyer-seller email relay."""

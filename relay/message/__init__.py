"""Helpers that read and write MIME: one writer for header lines, text parts edited in place."""

"""Uploaded files, stored once by their sha256 (content-addressed)."""

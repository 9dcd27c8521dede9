"""JSON REST API under /api/v1 for other systems and our own tests."""

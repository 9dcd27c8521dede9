"""The public page where anyone checks a document by its verification code (no login)."""

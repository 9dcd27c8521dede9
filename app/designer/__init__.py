"""Process designer pages: upload a bundle, read its validation report, see versions."""

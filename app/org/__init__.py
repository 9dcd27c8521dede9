"""The organisation: regions, departments and sections, posts, users' posts, AB backups."""

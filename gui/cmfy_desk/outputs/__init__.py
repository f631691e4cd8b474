"""Downloads of job outputs and the names they get on disk."""

"""Demo archive generator with planted truths."""

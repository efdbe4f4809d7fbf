"""ArchiveError, in a module of its own so that the CLI can name it without importing SQLAlchemy or DuckDB."""


class ArchiveError(Exception):
    """The archive cannot be opened or is not an icp-mcp archive."""

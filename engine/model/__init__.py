"""model: pure Python, no SQL and no archive. The ICP definition (`profile`), the attribute catalogue
(`catalogue`), errors, statistics and evidence (`stats`), time windows (`windows`), and the
markdown rendering (`render`).

Rule: imports nothing of icp_mcp outside this room but the clock (`archive.clock`, pure Python: the one
"now" and "today"); it never touches the archive (`windows` builds one
SQLAlchemy predicate, `Window.contains`, but runs no query).
"""

__all__ = ["catalogue", "errors", "profile", "render", "stats", "windows"]

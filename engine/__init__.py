r"""The ICP engine, in rooms by job. Imports point down only (checked by import-linter, see pyproject.toml):

    questions  derivation      the answers tools ask for; making an ICP from the archive
         \      /
         scoring               one account in Python, every account in SQL, tiers and calibration
            |
           sql                 SQL building blocks over the archive: attributes, matching, points, versions, cache
            |
          model                pure Python: the ICP model, catalogue of attributes, errors, stats, windows, render

The engine never imports MCP, tools, resources or server; below it is only `icp_mcp.archive`.
"""

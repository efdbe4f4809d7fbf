"""One module per schema revision, oldest first (0001 = the baseline schema of icp-mcp 0.1.0)."""

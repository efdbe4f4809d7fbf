# Two newcomer commands: `make demo` (build the demo archive, derive its ICP, serve it over HTTP) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := .demo/demo.duckdb
SIZE   ?= S
SEED   ?= 7
PORT   ?= 8765
# pytest workers (pytest-xdist, one test file per worker at a time): ~9 min instead of ~15 on 2 cores
JOBS   ?= 2

.PHONY: venv demo test bench clean

$(BIN)/icp-mcp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,postgres]"
	@touch $@

venv: $(BIN)/icp-mcp

demo: venv
	@mkdir -p .demo
	$(BIN)/icp-mcp demo build --out $(DEMO) --size $(SIZE) --seed $(SEED)
	$(BIN)/icp-mcp demo summary --archive $(DEMO)
	$(BIN)/icp-mcp icp derive --archive $(DEMO) --activate --note "make demo"
	@echo ""
	@echo "Serving the demo ICP over MCP (streamable HTTP) at http://127.0.0.1:$(PORT)/mcp  (Ctrl-C stops)"
	@echo "  Inspector:   npx -y @modelcontextprotocol/inspector@2.12.0 --cli http://127.0.0.1:$(PORT)/mcp --transport http --method tools/list"
	@echo "  Claude Code: claude mcp add --transport http icp-demo http://127.0.0.1:$(PORT)/mcp"
	@echo "  One tool:    $(BIN)/icp-mcp call best_customers --archive $(DEMO) --arg limit=5   (after stopping the server)"
	$(BIN)/icp-mcp serve --archive $(DEMO) --transport http --host 127.0.0.1 --port $(PORT)

test: venv
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf .demo .pytest_cache

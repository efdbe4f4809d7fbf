# Two newcomer commands: `make demo` (build the demo archive and serve it) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := .demo/demo.duckdb
SIZE   ?= S
SEED   ?= 7

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

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf .demo .pytest_cache

# make test   : venv + dev install + mypy --strict + pytest, on the default python3
# make test-all : `make test`, plus pytest on every other Python 3.10-3.13 found (what CI runs)
# make demo   : the flagship example network (offline cassette unless an API key is set)
# make bench  : benchmarks; figures are ratios against a baseline measured in the same run
# make record : re-record the provider cassettes against the live APIs (needs API keys; stdlib recorder)
# make crosscheck : run spec/cases against the TypeScript @inngest/agent-kit (needs node + npm)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-all typecheck pytest demo bench record crosscheck clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Every step runs even when an earlier one fails (one run shows all problems); any failure fails.
test: $(STAMP)
	status=0; \
	$(PY) -m mypy --strict agentkit_min tests || status=1; \
	MYPYPATH=examples $(PY) -m mypy --strict examples/*.py fixtures/examples/construct.py || status=1; \
	$(PY) -m pytest -q || status=1; \
	exit $$status

test-all:
	VENV=$(VENV) bash .ci/each-python

typecheck: $(STAMP)
	$(PY) -m mypy --strict agentkit_min tests

pytest: $(STAMP)
	$(PY) -m pytest -q

demo:
	python3 examples/demo.py

# Every figure the README's benchmark table quotes, one script per row, in the table's order.
bench: $(STAMP)
	status=0; \
	for b in loop import validation trace http concurrency stream mcp serve; do \
	    extra=""; [ $$b = trace ] && extra="--count"; \
	    $(PY) bench/$$b.py $$extra || status=1; \
	done; \
	exit $$status

record: $(STAMP)
	$(PY) scripts/record.py

crosscheck: $(STAMP)
	$(PY) scripts/crosscheck.py

clean:
	rm -rf $(VENV) .venv-3.*

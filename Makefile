# The two commands in the README are the contract: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit compat bench clean

$(STAMP): pyproject.toml setup.py wire/_record_walk.c Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# editable_mode=compat: the install is one path line in a .pth; setuptools' default editable finder is a
	# module every python process in the venv imports (pathlib, importlib.util, urllib.parse ...: 7-15 ms
	# of each start-up, the broker's included). The default mode is the fallback if a setuptools lacks it.
	$(PY) -m pip install --quiet -e '.[test,bench]' --config-settings editable_mode=compat \
		|| $(PY) -m pip install --quiet -e '.[test,bench]'
	# bytecode now, as a wheel install has it: with PYTHONDONTWRITEBYTECODE set, every start would
	# compile the ~350 modules from source (about half of start-up to the first Metadata)
	$(PY) -m compileall -q gateway wire partitions
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m gateway serve --host 127.0.0.1 --port 9092 --data-dir ./data

test: $(STAMP)
	$(PY) -m pytest -q

unit: $(STAMP)
	$(PY) -m pytest -q tests

compat: $(STAMP)
	$(PY) -m pytest -q compat_tests

bench: $(STAMP)
	$(PY) scripts/bench.py --against-tansu --groups --latency --scale --wire --pipeline --warmup-records 100000 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data build wire/*.so

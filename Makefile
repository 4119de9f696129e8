# The two commands a newcomer types: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.eq-stamp
export QT_QPA_PLATFORM ?= xcb

.PHONY: demo test test-bench venv lint sysdeps clean

# (Re)build .venv when it is missing or pyproject/constraints changed since it was built.
$(STAMP): pyproject.toml constraints.txt
	@if [ ! -x $(PY) ]; then $(PYTHON) -m venv $(VENV); fi
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -c constraints.txt -e '.[gui,dev]'
	$(PY) -c "import torch, torchvision; assert torch.__version__.startswith('2.14.1'), torch.__version__"
	@touch $(STAMP)

venv: $(STAMP)

# Xvfb + Mesa for the GUI tests; installed only when missing and only as root (CI is root).
sysdeps:
	@if ! command -v Xvfb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb libgl1 libegl1 \
	      libxkbcommon-x11-0 libxkbcommon0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	      libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 libdbus-1-3 \
	      libfontconfig1 libglib2.0-0 >/dev/null; \
	  else echo "Xvfb missing: GUI tests will be skipped (install xvfb, libgl1, libegl1 as root)"; fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check eq_engine eq_gui tests bench
	$(VENV)/bin/lint-imports

test: sysdeps $(STAMP) lint
	$(VENV)/bin/pytest -m "not bench"

# Real-data training runs behind BENCHMARKS.md (about 25 CPU minutes; needs ../shared/data).
test-bench: sysdeps $(STAMP)
	$(VENV)/bin/pytest -m bench

demo: $(STAMP)
	$(VENV)/bin/eq demo --out demo_out

clean:
	rm -rf $(VENV) demo_out .pytest_cache

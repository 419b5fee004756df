# The two commands of the README: `make demo` and `make test`. Both set up the environment first.
VENV ?= .venv
BIN := $(VENV)/bin
export JSFAKES_CACHE ?= $(CURDIR)/data/cache
export WANDB_MODE ?= offline
export MPLBACKEND ?= Agg

.PHONY: demo test setup clean

demo: $(VENV)/.installed  ## build the dataset from the best available source and export one excerpt
	$(BIN)/python -m jsfakes_utils demo

test: $(VENV)/.installed  ## unit tests and every notebook (quick mode)
	JSFAKES_QUICK=1 $(BIN)/python -m pytest

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt tools/setup.sh
	VENV=$(VENV) tools/setup.sh
	touch $@

clean:
	rm -rf $(VENV) data/build data/cache out

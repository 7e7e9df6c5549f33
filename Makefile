# haar — the two commands: `make run` and `make test`. Both install what is missing first.
BUILD      ?= build
JOBS       ?= $(shell nproc)
PYTHON     := /usr/bin/python3
WERROR     := $(if $(CI),ON,OFF)
CMAKE_ARGS ?=
FUZZ_SECONDS ?= 5

.PHONY: all deps build run test unit e2e runtimes infra-check lint fuzz fuzz-smoke sanitize bench package docs clean

all: build

deps:
	@scripts/deps

build:
	@scripts/deps --build
	@cmake -S . -B $(BUILD) -DHAAR_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# `make run ARGS="--clock manual"` passes flags on to `haar up`
run: build
	$(BUILD)/bin/haar up --env dev $(ARGS)

# Every test: lint, unit (ctest), fuzz smoke, infra checks, the managed runtimes' clients,
# end-to-end (pytest).
test: deps build lint unit fuzz-smoke infra-check runtimes e2e

lint:
	@scripts/check-src

unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The e2e files run side by side (pytest-xdist): a file per worker at a time, since the tests
# of a file share its daemon and run in order. E2E_WORKERS=0 runs them one after another.
E2E_WORKERS ?= 4
e2e: build
	@HAAR_BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider \
	  $(if $(filter 0,$(E2E_WORKERS)),,-n $(E2E_WORKERS) --dist loadfile) tests/e2e

runtimes:
	@$(PYTHON) -m pytest -q -p no:cacheprovider tests/runtimes

infra-check:
	@if [ -d tests/infra ] && ls tests/infra/test_*.py >/dev/null 2>&1; then \
	  HAAR_BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/infra; \
	else echo "infra-check: no infra checks yet"; fi

# The sanitizer build: unit and e2e tests once more under ASan+UBSan.
sanitize:
	@$(MAKE) --no-print-directory BUILD=build-asan CMAKE_ARGS="-DHAAR_SANITIZE=ON" unit e2e

fuzz-build:
	@scripts/deps --build
	@CC=clang cmake -S . -B build-fuzz -DHAAR_FUZZ=ON -DHAAR_TESTS=OFF -DHAAR_WERROR=$(WERROR) >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Each libFuzzer target for a few seconds (make test); `make fuzz` runs them long.
fuzz-smoke: fuzz-build
	@scripts/fuzz $(FUZZ_SECONDS)

fuzz: fuzz-build
	@scripts/fuzz $(or $(SECONDS_EACH),600)

bench: build
	@bench/run

package: build
	@packaging/build

docs:
	@scripts/deps
	@scripts/docs

clean:
	rm -rf build build-asan build-fuzz dist

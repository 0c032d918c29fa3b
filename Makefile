# certfleet — the two set-up commands are `make demo` and `make test`.
PRESET ?= default
BUILD := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-asan demo fuzz bench windows format clean

all: build

deps:
	@scripts/install-deps.sh all

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Every unit and integration test; ends with ctest's summary line.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan:
	@$(MAKE) --no-print-directory test PRESET=asan

# The Windows agent, cross-built with MinGW-w64: build/windows/src/windows/certfleet-agent.exe.
windows: deps
	@cmake --preset windows >/dev/null
	@cmake --build --preset windows -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@scripts/fuzz.sh build/fuzz $${FUZZ_SECONDS:-60}

bench: build
	@bench/dns/run.sh $(BUILD)
	@bench/issue/run.sh $(BUILD)
	@bench/sweep/run.sh $(BUILD)
	@bench/api/run.sh $(BUILD)
	@bench/agents/run.sh $(BUILD)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build

# The two commands a newcomer runs: `make demo` and `make test` (README.md).
SHELL := /bin/bash
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
# make fuzz: every target of fuzz/ (or those of FUZZ_TARGETS, space-separated) for FUZZ_SECONDS
# each; inputs found and crashes under FUZZ_OUT/<target>/ (docs/fuzzing.md). make fuzz-ci: the
# short run of .ci/run, FUZZ_CI_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 15
FUZZ_TARGETS ?=
FUZZ_OUT ?= .fuzz
JOBS ?= $(shell nproc)
SCALE ?= 1
BENCH_SCALES ?= 10,100
BENCH_REPEAT ?= 5
# e.g. BENCH_ONLY=sling,dlt,noindex: those cells only (results in bench/results/partial/)
BENCH_ONLY ?=
CHAOS_KILLS ?= 20
CHAOS_MODES ?= migrate,backup,stream
BENCH_ACK_PORT ?= 5990
# The commit whose binary make bench runs beside ours, interleaved in every timed cell (none:
# no baseline column), built once per hash of its build inputs under BENCH_BASELINE_DIR.
BENCH_BASELINE ?= HEAD~1
BENCH_BASELINE_DIR ?= build-baseline
# stack.env's settings for the commands below, each only where the environment does not set
# it (as scripts/* and the tests read it): `MYSQL_PORT=13306 make test` uses that port.
ENV := . scripts/lib.sh && load_stack_env stack.env
# ccache, when installed, caches compilations, shared between checkouts of this repository
# (paths under the checkout hashed as relative ones, the build folder left out of the hash).
CCACHE := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all setup build build-asan build-tsan stack-up stack-down stack-status seed testdata demo \
        test test-unit test-asan test-tsan bench chaos format format-check clean image image-test \
        fresh-check setup-fuzz build-fuzz fuzz fuzz-ci

all: build

setup:
	scripts/setup

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CCACHE)

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# ThreadSanitizer (make test-tsan): only the executables its tests run.
$(BUILD_TSAN)/build.ninja:
	cmake -S . -B $(BUILD_TSAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDI_TSAN=ON $(CCACHE)

build-tsan: setup $(BUILD_TSAN)/build.ninja
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target unit_tests integration_tests data-ingestion

$(BUILD_ASAN)/build.ninja:
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDI_SANITIZE=ON $(CCACHE)

build-asan: setup $(BUILD_ASAN)/build.ninja
	cmake --build $(BUILD_ASAN) -j $(JOBS)

stack-up: setup
	scripts/stack up

stack-down:
	scripts/stack down

stack-status:
	scripts/stack status

seed: stack-up
	CINEMA_SCALE=$(SCALE) scripts/seed

# The public reference data (Sakila, Pagila, sample_mflix) when ../shared/testdata (or
# TESTDATA_DIR) has it; without it the tests that need it report themselves skipped.
testdata: stack-up
	scripts/load-testdata || [ $$? -eq 3 ]

# Set-up, build, stack up, scale-1 data, then the main job on the local stack: create the
# bucket and tables, migrate (DynamoDB + backups + report), and verify the result.
demo: build seed
	scripts/stack status
	@echo "== configuration the service sees (secrets masked)"
	$(ENV) && $(BUILD)/data-ingestion --print-config
	@echo "== setup: bucket and DynamoDB tables"
	$(ENV) && $(BUILD)/data-ingestion --mode setup
	@echo "== migrate: every table backed up to S3, four tables into DynamoDB"
	$(ENV) && $(BUILD)/data-ingestion --mode migrate
	@echo "== verify: sources against DynamoDB and the backups"
	$(ENV) && $(BUILD)/data-ingestion --mode verify

# Set-up, build, stack up, scale-1 data, every test (unit + integration).
test: build seed testdata
	$(ENV) && cd $(BUILD) && ctest --output-on-failure -j 1

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: build-asan seed testdata
	$(ENV) && cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j 1

# ThreadSanitizer: the unit tests and the integration tests of tests/CMakeLists.txt's
# TSAN_INTEGRATION_TESTS (label tsan), those that drive threads, in the test process and in
# the data-ingestion it starts. Every report, of either, is written to
# BUILD_TSAN/tsan-reports/report.<pid> (halt_on_error: the process stops at its first); the
# target prints them and fails when there is any, even one of a child whose exit a test did
# not look at. No suppressions file: no report so far came from inside a library (their own
# accesses are not instrumented; their locks and threads are seen through the interceptors).
TSAN_REPORTS = $(CURDIR)/$(BUILD_TSAN)/tsan-reports
test-tsan: build-tsan seed
	rm -rf $(TSAN_REPORTS) && mkdir -p $(TSAN_REPORTS)
	$(ENV) && cd $(BUILD_TSAN) && \
	  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:log_path=$(TSAN_REPORTS)/report && \
	  rc=0 && ctest --output-on-failure -j 1 -L '^(unit|tsan)$$' || rc=$$?; \
	  if [ -n "$$(ls -A $(TSAN_REPORTS))" ]; then \
	    cat $(TSAN_REPORTS)/*; echo "ThreadSanitizer reported the above ($(TSAN_REPORTS))" >&2; rc=1; \
	  fi; exit $$rc

# The libFuzzer targets (fuzz/, docs/fuzzing.md), built by clang with ASan and UBSan into
# BUILD_FUZZ (only the fuzz executables; setup installs clang and its runtimes).
$(BUILD_FUZZ)/build.ninja:
	cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_COMPILER=clang++ \
	  -DDI_FUZZ=ON -DDI_BUILD_TESTS=OFF $(CCACHE)

setup-fuzz:
	scripts/setup fuzz

build-fuzz: setup-fuzz $(BUILD_FUZZ)/build.ninja
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzzers

# Exits non-zero when a target crashed (or leaked, hung, broke a property): the input is kept
# as FUZZ_OUT/<target>/crashes/crash-<sha1>.
fuzz: build-fuzz
	scripts/fuzz --build $(BUILD_FUZZ) --out $(FUZZ_OUT) --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: build-fuzz
	scripts/fuzz --build $(BUILD_FUZZ) --out $(FUZZ_OUT) --seconds $(FUZZ_CI_SECONDS) $(FUZZ_TARGETS)

# Benchmarks (slow, not part of the tests): backup throughput against the plain tools at
# scales 10 and 100, and against Sling and dlt (installed into .venv-bench by
# `scripts/setup bench`), migration against moto and an acknowledge-only endpoint, a table
# without an index on its change column, memory, and the micro-benchmarks ->
# bench/results/<stamp>.json and BENCHMARKS.md. Reseeds scale 1 after. Every figure of ours
# is set beside BENCH_BASELINE's (default HEAD~1, `none` for none), that commit's binary
# built in BENCH_BASELINE_DIR/<hash of its src/, CMakeLists.txt, bench/*.cpp> (reused) and run
# interleaved with ours; a figure worse than 0.95 x the baseline's with the run ranges apart
# (3+ runs each) is flagged slower in BENCHMARKS.md.
bench: build stack-up
	scripts/setup bench
	$(ENV) && .venv/bin/python bench/run_bench.py --binary $(BUILD)/data-ingestion \
	  --ack-server $(BUILD)/ack_server --micro $(BUILD)/micro_bench --scales $(BENCH_SCALES) \
	  --repeat $(BENCH_REPEAT) --ack-port $(BENCH_ACK_PORT) $(if $(BENCH_ONLY),--only $(BENCH_ONLY)) \
	  --baseline '$(BENCH_BASELINE)' --baseline-dir '$(BENCH_BASELINE_DIR)' --jobs $(JOBS)

# Chaos (not part of test or .ci/run): CHAOS_KILLS SIGKILLs at random moments of a migrate,
# a backup and a stream under writes, each followed by a re-run and verify (bench/chaos.py);
# the report in bench/results/chaos-<stamp>.json, exit 1 when any kill left a failure.
chaos: build seed
	$(ENV) && .venv/bin/python bench/chaos.py --binary $(BUILD)/data-ingestion \
	  --kills $(CHAOS_KILLS) --modes $(CHAOS_MODES)

# The container image (Containerfile) with buildah, from a Debian base made here by mmdebstrap
# (cached in .image/; the first build takes a few minutes more). Not part of test or .ci/run.
image:
	scripts/setup image
	scripts/image build

# The image, then its binary run against the local stack: setup, migrate, verify, /health;
# and compose.yaml checked. Uses the stack's ports from the environment like `make test`.
image-test:
	scripts/setup image
	scripts/setup venv
	$(ENV) && scripts/image test

# Proof that a fresh Debian 12 runs `make demo` (FRESH_CHECK_TARGET=test: `make test`): a
# minbase root by mmdebstrap, the committed tree copied in, the target run inside on ports of
# its own (the chroot shares the host's network). As root; not part of .ci/run. README.md,
# "A fresh machine". FRESH_CHECK_ARGS: --worktree (the working tree instead of HEAD),
# --rebuild (a new base root), --keep (keep the root after a pass).
FRESH_CHECK_ARGS ?=
fresh-check:
	scripts/fresh-check $(FRESH_CHECK_ARGS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ)

# Test, demo and benchmark targets. Each first installs missing Debian
# packages (tools/install-deps.sh), then builds, then runs. Unit tests
# and fuzz targets are built by tests/unit.mk; system tests are scripts
# under tests/system/.

-include tests/unit.mk

test:
	@tools/install-deps.sh --check-or-install
	@$(MAKE) --no-print-directory all
	@tests/run.sh

demo:
	@tools/install-deps.sh --check-or-install
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

bench:
	@tools/install-deps.sh --check-or-install
	@$(MAKE) --no-print-directory all
	@bench/run.sh

# Long fuzzing (issue 16): FUZZ_EXECS=N runs per target (default 10M) or
# FUZZ_SECONDS=S; grows and minimises tests/fuzz/corpus/, prints coverage.
.PHONY: fuzz-long
fuzz-long:
	@tools/install-deps.sh --check-or-install
	@MAKE='$(MAKE)' BUILD='$(BUILD)' tests/fuzz/long.sh

# Deliberate breakages the suite must catch (issue 16): each entry of
# tests/mutate/mutations.list alone, on a scratch copy of HEAD (about
# a minute, a few Bochs boots; not part of `make test`).
# MUTATE_ONLY=regex picks entries by name.
.PHONY: mutate
mutate:
	@tools/install-deps.sh --check-or-install
	@MUTATE_LOGS=$(abspath $(BUILD))/mutate-logs tests/mutate/run.sh \
	    tests/mutate/mutations.list '$(MUTATE_ONLY)'

# The churn soak (issue 16): SOAK_CYCLES guest create/destroy cycles in one
# Bochs boot, from the config and over the control channel, with every
# resource checked at intervals and at the end (tests/system/soak.sh;
# `make test` runs it with 2,000), then the in-guest fuzzer
# (tests/system/hcfuzz.sh) with HCFUZZ_CALLS hypercalls per fuzzer
# (default 1,000,000; make test runs 20,000). An hour or more.
SOAK_CYCLES ?= 100000
HCFUZZ_CALLS ?= 1000000
.PHONY: soak
soak:
	@tools/install-deps.sh --check-or-install
	@$(MAKE) --no-print-directory all
	@SOAK_CYCLES=$(SOAK_CYCLES) HCFUZZ_CALLS=$(HCFUZZ_CALLS) MAYFLY_BUILD=$(abspath $(BUILD)) \
	    TEST_FILTER='^(soak|hcfuzz)\.sh$$' tests/run.sh system

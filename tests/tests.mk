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

# Deliberate breakages the suite must catch (issue 16): each entry of
# tests/mutate/mutations.list alone, on a scratch copy of HEAD (about
# a minute, a few Bochs boots; not part of `make test`).
# MUTATE_ONLY=regex picks entries by name.
.PHONY: mutate
mutate:
	@tools/install-deps.sh --check-or-install
	@MUTATE_LOGS=$(abspath $(BUILD))/mutate-logs tests/mutate/run.sh \
	    tests/mutate/mutations.list '$(MUTATE_ONLY)'

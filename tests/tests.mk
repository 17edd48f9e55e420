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

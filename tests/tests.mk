# Test, demo and benchmark targets. Unit tests and fuzz targets are built
# by tests/unit.mk; system tests are scripts under tests/system/.

-include tests/unit.mk

test: all
	@tests/run.sh

demo: all
	@tests/demo.sh

bench: all
	@bench/run.sh

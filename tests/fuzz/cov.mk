# Coverage builds of the fuzz targets, for `make fuzz-long`
# (tests/fuzz/long.sh). Included by tests/unit.mk after FUZZ_TARGETS and
# the SRC_<target> lists are complete.
#
#   make fuzz-cov        build/tests/fuzzcov/fuzz_<target>
#   make fuzz-cov-list   one line per target: <target> <sources it links>
#
# The same sources as `make fuzz`, built with clang's source-based
# coverage (-fprofile-instr-generate -fcoverage-mapping) and linked with
# libFuzzer's main (-fsanitize=fuzzer) so a binary replays a corpus with
# -runs=0. No ASan/UBSan: these binaries only count, the sanitised ones
# in tests/unit.mk find the bugs.

COV_DIR    := $(BUILD)/tests/fuzzcov
COV_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=fuzzer \
              -fprofile-instr-generate -fcoverage-mapping -Ihv -Iefi

COV_BINS := $(patsubst %,$(COV_DIR)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz-cov fuzz-cov-list
fuzz-cov: $(COV_BINS)

fuzz-cov-list:
	@$(foreach t,$(FUZZ_TARGETS),echo "$(t) $(SRC_$(t))";)

$(COV_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (coverage)"
	$(Q)$(FUZZ_CC) $(COV_CFLAGS) -MMD -MP -c $< -o $@

define cov_rule
$(COV_DIR)/fuzz_$(1): $(COV_DIR)/obj/tests/fuzz/fuzz_$(1).o $(patsubst %.c,$(COV_DIR)/obj/%.o,$(SRC_$(1)))
	@echo "  LD      $$@"
	$$(Q)$$(FUZZ_CC) $$(COV_CFLAGS) -o $$@ $$^
endef

$(foreach t,$(FUZZ_TARGETS),$(eval $(call cov_rule,$(t))))

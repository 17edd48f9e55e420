# Guest images: freestanding static ELF64 executables loaded at
# MF_IMAGE_BASE, each carrying the Mayfly ABI note (guests/lib/guest.ld).
# Included by the top Makefile, which defines BUILD and CC.
#   build/guests/<name>.elf     sample guests (guests/<name>/), the network
#                               guests (linked with guests/lib/net/) and the
#                               adversarial guests (tests/guests/evil/,
#                               tests/guests/badring/)
#   build/guests/bad-*.elf      broken images for loader tests

GUEST_BUILD   := $(BUILD)/guests
GUEST_CFLAGS  := -std=gnu11 -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                 -fcf-protection=none -fno-strict-aliasing -mno-red-zone \
                 -mgeneral-regs-only -fno-asynchronous-unwind-tables \
                 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
                 -Wvla -Wpointer-arith -Wundef -Iinclude -Iguests/lib
GUEST_LDFLAGS := -nostdlib -static -no-pie -T guests/lib/guest.ld -Wl,--build-id=none \
                 -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack

# The runtime; the formatter is the hypervisor's own hv/fmt.c, built again
# with the guest flags.
GUEST_LIB_OBJ := $(patsubst %,$(GUEST_BUILD)/lib/%.o,crt0 note runtime args string fmt)

# The network library: protocol code, virtio-net driver, stack, settings
# from the boot arguments, hypercall glue.
GUEST_NET_OBJ := $(patsubst %,$(GUEST_BUILD)/lib/net/%.o,proto driver stack config env)

GUEST_SAMPLES := hello count sleep bench benchbig
GUEST_NET_SAMPLES := udp-echo udp-ping flood
GUEST_IMAGES  := $(patsubst %,$(GUEST_BUILD)/%.elf,$(GUEST_SAMPLES) $(GUEST_NET_SAMPLES) evil badring churn)
GUEST_BAD     := $(patsubst %,$(GUEST_BUILD)/bad-%.elf,magic nonote version far overlap truncated long)

guests: $(GUEST_IMAGES) $(GUEST_BAD)

$(GUEST_BUILD)/lib/%.o: guests/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/lib/%.o: guests/lib/%.S
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

# memcpy and friends must not be compiled into calls to themselves.
$(GUEST_BUILD)/lib/string.o: GUEST_CFLAGS += -fno-tree-loop-distribute-patterns

$(GUEST_BUILD)/lib/fmt.o: hv/fmt.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/%.o: guests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/evil/%.o: tests/guests/evil/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/churn/%.o: tests/guests/churn/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/badring/%.o: tests/guests/badring/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

# One image per folder: every .c in guests/<name>/ (or tests/guests/<name>/),
# the runtime, and any extra objects named by the third argument.
define guest_image
$(GUEST_BUILD)/$(1).elf: $(patsubst $(2)/%.c,$(GUEST_BUILD)/$(1)/%.o,$(wildcard $(2)/*.c)) \
                         $(3) $(GUEST_LIB_OBJ) guests/lib/guest.ld
	@echo "  LD      $$@"
	$$(Q)$$(CC) $$(GUEST_CFLAGS) $$(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^)
endef
$(foreach g,$(GUEST_SAMPLES),$(eval $(call guest_image,$(g),guests/$(g))))
$(foreach g,$(GUEST_NET_SAMPLES),$(eval $(call guest_image,$(g),guests/$(g),$(GUEST_NET_OBJ))))
$(eval $(call guest_image,evil,tests/guests/evil))
$(eval $(call guest_image,badring,tests/guests/badring))
$(eval $(call guest_image,churn,tests/guests/churn,$(GUEST_NET_OBJ)))

$(GUEST_BAD) &: $(GUEST_BUILD)/hello.elf tests/guests/mkbad.py
	@echo "  MKBAD   $(GUEST_BUILD)/bad-*.elf"
	$(Q)python3 tests/guests/mkbad.py $(GUEST_BUILD)/hello.elf $(GUEST_BUILD)

# mfctl, the host control tool: one C program built for the host, with the
# hypervisor's own config parser and ELF validator compiled in (not copied)
# so that `mfctl image` and `mfctl load` refuse exactly what the hypervisor
# would refuse, and its control-frame codec (CRC-32, HMAC-SHA-256) so that
# the live commands speak the protocol with the code that serves it.
# Included by the top Makefile, which defines BUILD, CC and Q.
#   make mfctl      build/mfctl (next to build/BOOTX64.EFI and build/mayfly.elf,
#                   which mfctl finds through /proc/self/exe)

MFCTL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
                -Wstrict-prototypes -Wvla -Iinclude -Ihv
MFCTL_SHARED := hv/config.c hv/fmt.c hv/str.c hv/elf.c hv/mft.c hv/ctl_frame.c hv/crc32.c hv/sha256.c
MFCTL_SRC    := $(wildcard tools/mfctl/*.c) $(MFCTL_SHARED)
# Objects are named .o (not .c.o) so the freestanding pattern rules of the
# top Makefile never claim them.
MFCTL_OBJ    := $(patsubst %.c,$(BUILD)/tools/obj/%.o,$(MFCTL_SRC))

.PHONY: mfctl
mfctl: $(BUILD)/mfctl

$(BUILD)/mfctl: $(MFCTL_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(MFCTL_CFLAGS) -o $@ $(MFCTL_OBJ)

$(BUILD)/tools/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (mfctl)"
	$(Q)$(CC) $(MFCTL_CFLAGS) -MMD -MP -c $< -o $@

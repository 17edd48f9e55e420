# Guest images: freestanding static ELF64 executables loaded at
# MF_IMAGE_BASE, each carrying the Mayfly ABI note (guests/lib/guest.ld).
# Included by the top Makefile, which defines BUILD and CC.
#   build/guests/<name>.elf     sample guests (guests/<name>/), the network
#                               guests (linked with guests/lib/net/) and the
#                               adversarial guests (tests/guests/evil/,
#                               tests/guests/badring/), the SMP test's
#                               TSC-stamped job (tests/guests/burn/), the
#                               in-guest hypercall fuzzer (tests/guests/hcfuzz/)
#   build/guests/ctlnet.elf     the control guest of 'control net' (guests/ctlnet/)
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

# TCP (tcp.c, its glue tcp_net.c) only for the guests that use it: its
# connection pool is a few hundred KiB of .bss.
GUEST_TCP_OBJ := $(patsubst %,$(GUEST_BUILD)/lib/net/%.o,tcp tcp_net)

GUEST_SAMPLES := hello count sleep bench benchbig
GUEST_NET_SAMPLES := udp-echo udp-ping flood
GUEST_TCP_SAMPLES := httpd http-get
GUEST_IMAGES  := $(patsubst %,$(GUEST_BUILD)/%.elf,$(GUEST_SAMPLES) $(GUEST_NET_SAMPLES) $(GUEST_TCP_SAMPLES) evil badring churn burn hcfuzz)
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

$(GUEST_BUILD)/burn/%.o: tests/guests/burn/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/hcfuzz/%.o: tests/guests/hcfuzz/%.c
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
$(foreach g,$(GUEST_TCP_SAMPLES),$(eval $(call guest_image,$(g),guests/$(g),$(GUEST_NET_OBJ) $(GUEST_TCP_OBJ))))
# ctlnet, the control guest (config 'control net'): one client at a time,
# so TCP with a pool of 4 connections (the one served, one being refused
# or replacing it, TIME-WAITs) keeps its image small; the hypervisor picks
# the partition it runs in by its size. A 32 KiB receive window per
# connection (the default 4 KiB allows one 4 KiB upload chunk per round
# trip on a real link; in Bochs the 4 MiB upload took about 20 emulated s
# with either window, so the limit there is elsewhere).
CTLNET_TCP_OBJ := $(patsubst %,$(GUEST_BUILD)/ctlnet/net/%.o,tcp tcp_net)
$(GUEST_BUILD)/ctlnet/%.o: GUEST_CFLAGS += -DTCP_CONNS=4 -DTCP_RCVBUF=32768
$(GUEST_BUILD)/ctlnet/net/%.o: guests/lib/net/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (ctlnet)"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@
$(eval $(call guest_image,ctlnet,guests/ctlnet,$(GUEST_NET_OBJ) $(CTLNET_TCP_OBJ)))
guests: $(GUEST_BUILD)/ctlnet.elf
$(eval $(call guest_image,evil,tests/guests/evil))
$(eval $(call guest_image,badring,tests/guests/badring))
$(eval $(call guest_image,burn,tests/guests/burn))
$(eval $(call guest_image,hcfuzz,tests/guests/hcfuzz))
$(eval $(call guest_image,churn,tests/guests/churn,$(GUEST_NET_OBJ)))

$(GUEST_BAD) &: $(GUEST_BUILD)/hello.elf tests/guests/mkbad.py
	@echo "  MKBAD   $(GUEST_BUILD)/bad-*.elf"
	$(Q)python3 tests/guests/mkbad.py $(GUEST_BUILD)/hello.elf $(GUEST_BUILD)

# --- Solo5 hvt unikernels (issue 10) -----------------------------------
#   build/guests/hvt-test.hvt      test modes picked by the command line
#                                  (tests/guests/hvt/test/main.c)
#   build/guests/hvt-test-v1.hvt   the same, ABI version 1 layout (hvt-v1.ld)
#   build/guests/hvt-block.hvt     block device tests (tests/guests/hvt/block/)
#   build/guests/hvt-net.hvt       ARP/ICMP/UDP echo responder (tests/guests/hvt/net/)
#   build/guests/hvt-fuzz.hvt      in-guest fuzzer of the Solo5 personality (tests/guests/hvt/fuzz/)
#   build/guests/hvt-net3.hvt      the same with two spare NET_BASIC devices (soak.sh)
#   build/guests/hvt-hello.hvt     the demo's unikernel (guests/hvt-hello/)
#   build/guests/bad-hvt-*.hvt     broken images (tests/guests/mkbad_hvt.py)
#   build/guests/hvt-disk.img      64 sectors, sector n starts "sector <n>\n";
#   build/guests/hvt-disk-odd.img  the same plus 100 bytes (not whole sectors)
# Their runtime is guests/hvt/lib/, linked with its own hvt.ld / hvt-v1.ld.
# Built with the stack protector (global guard, set from RDTSC at entry);
# SSE only in the files that ask for it (HVT_SSE_OBJ).
HVT_BUILD     := $(GUEST_BUILD)/hvt
HVT_CFLAGS    := $(filter-out -fno-stack-protector -Iguests/lib,$(GUEST_CFLAGS)) \
                 -fstack-protector-strong -mstack-protector-guard=global -Iguests/hvt/lib
HVT_LDFLAGS   := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
                 -Wl,-z,noexecstack
HVT_LIB_OBJ   := $(patsubst %,$(HVT_BUILD)/lib/%.o,start cpu hypercall runtime args tls ssp) \
                 $(GUEST_BUILD)/lib/fmt.o $(GUEST_BUILD)/lib/string.o
HVT_SSE_OBJ   := $(HVT_BUILD)/test/sse.o
HVT_TEST_OBJ  := $(patsubst %,$(HVT_BUILD)/test/%.o,main modes hostile sse)
HVT_IMAGES    := $(patsubst %,$(GUEST_BUILD)/%.hvt,hvt-test hvt-test-v1 hvt-block hvt-net hvt-hello \
                                                    hvt-bench hvt-net3 hvt-fuzz)
HVT_BAD       := $(patsubst %,$(GUEST_BUILD)/bad-hvt-%.hvt,mftsmall target version mftfirst \
                   mftname both nomft)
HVT_DISKS     := $(GUEST_BUILD)/hvt-disk.img $(GUEST_BUILD)/hvt-disk-odd.img

guests: $(HVT_IMAGES) $(HVT_BAD) $(HVT_DISKS)

$(HVT_BUILD)/lib/%.o: guests/hvt/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

$(HVT_BUILD)/lib/%.o: guests/hvt/lib/%.S
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

$(HVT_BUILD)/lib/note-v%.o: guests/hvt/lib/note.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (ABI version $*)"
	$(Q)$(CC) $(HVT_CFLAGS) -DHVT_ABI_NOTE_VERSION=$* -MMD -MP -c $< -o $@

$(HVT_BUILD)/test/%.o: tests/guests/hvt/test/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

# tls.c uses __thread: only the ABI 2 image has a TLS segment.
$(HVT_BUILD)/test/tls.o: tests/guests/hvt/test/tls.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

$(HVT_SSE_OBJ): HVT_CFLAGS := $(filter-out -mgeneral-regs-only,$(HVT_CFLAGS))

$(HVT_BUILD)/block/%.o: tests/guests/hvt/block/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

$(HVT_BUILD)/fuzz/%.o: tests/guests/hvt/fuzz/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

$(HVT_BUILD)/net/%.o: tests/guests/hvt/net/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -Iguests/lib -MMD -MP -c $< -o $@

# hvt-net3: hvt-net with two spare NET_BASIC devices (soak.sh's failed launches).
$(HVT_BUILD)/net3/%.o: tests/guests/hvt/net/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (hvt-net3)"
	$(Q)$(CC) $(HVT_CFLAGS) -Iguests/lib -DHVT_NET_SPARES -MMD -MP -c $< -o $@

$(HVT_BUILD)/hello/%.o: guests/hvt-hello/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

$(HVT_BUILD)/bench/%.o: guests/hvt-bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HVT_CFLAGS) -MMD -MP -c $< -o $@

# hvt_image(name, objects, ABI version, linker script)
define hvt_image
$(GUEST_BUILD)/$(1).hvt: $(2) $(HVT_BUILD)/lib/note-v$(3).o $(HVT_LIB_OBJ) $(4)
	@echo "  LD      $$@"
	$$(Q)$$(CC) $$(HVT_CFLAGS) $$(HVT_LDFLAGS) -T $(4) -o $$@ $$(filter %.o,$$^)
endef
$(eval $(call hvt_image,hvt-test,$(HVT_TEST_OBJ) $(HVT_BUILD)/test/tls.o,2,guests/hvt/lib/hvt.ld))
$(eval $(call hvt_image,hvt-test-v1,$(HVT_TEST_OBJ),1,guests/hvt/lib/hvt-v1.ld))
$(eval $(call hvt_image,hvt-block,$(HVT_BUILD)/block/main.o,2,guests/hvt/lib/hvt.ld))
$(eval $(call hvt_image,hvt-net,$(HVT_BUILD)/net/main.o $(GUEST_BUILD)/lib/net/proto.o,2,guests/hvt/lib/hvt.ld))
$(eval $(call hvt_image,hvt-net3,$(HVT_BUILD)/net3/main.o $(GUEST_BUILD)/lib/net/proto.o,2,guests/hvt/lib/hvt.ld))
$(eval $(call hvt_image,hvt-hello,$(HVT_BUILD)/hello/main.o,2,guests/hvt/lib/hvt.ld))
$(eval $(call hvt_image,hvt-bench,$(HVT_BUILD)/bench/main.o,2,guests/hvt/lib/hvt.ld))
$(eval $(call hvt_image,hvt-fuzz,$(HVT_BUILD)/fuzz/main.o,2,guests/hvt/lib/hvt.ld))

$(HVT_BAD) &: $(GUEST_BUILD)/hvt-test.hvt $(GUEST_BUILD)/hvt-block.hvt tests/guests/mkbad_hvt.py tests/guests/mkbad.py \
              include/mayfly/hvt.h include/mayfly/abi.h
	@echo "  MKBAD   $(GUEST_BUILD)/bad-hvt-*.hvt"
	$(Q)python3 tests/guests/mkbad_hvt.py $(GUEST_BUILD)/hvt-test.hvt $(GUEST_BUILD)/hvt-block.hvt \
	    $(GUEST_BUILD)

$(HVT_DISKS) &: tests/guests/hvt/mkdisk.py tests/guests/mkbad.py
	@mkdir -p $(GUEST_BUILD)
	@echo "  MKDISK  $(HVT_DISKS)"
	$(Q)python3 tests/guests/hvt/mkdisk.py $(GUEST_BUILD)

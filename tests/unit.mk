# Host-side tests of the pure logic: cmocka unit tests and libFuzzer
# targets. The modules compile unchanged against the host C library (the
# host's memcpy, strlen, ... stand in for hv/lib.c, which is never linked
# here). Included by tests/tests.mk after BUILD and CC are set.
#
#   make unit   build/tests/unit/test_<module>   (gcc, ASan + UBSan, cmocka)
#   make fuzz   build/tests/fuzz/fuzz_<target>   (clang, libFuzzer + ASan + UBSan)

UNIT_CC  ?= gcc
FUZZ_CC  ?= clang
UNIT_DIR := $(BUILD)/tests/unit
FUZZ_DIR := $(BUILD)/tests/fuzz

SANITIZE    := -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(SANITIZE) -Ihv -Iefi
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -Ihv -Iefi
# The CRC and SHA-256 primitives (known answers in test_crypto) run over
# every byte of every control frame, the transmit ring over every byte
# sent, and the log ring's walks over every record at every read; their
# compares are loop bounds, round and ring counters and offsets, never
# input (fuzz_logbuf's ids come from a table of four), so fuzz builds do
# not trace them for libFuzzer's compare tables (most of fuzz_control's
# and over half of fuzz_logbuf's time). Their edges are still counted,
# and ASan and UBSan still check them.
$(FUZZ_DIR)/obj/hv/crc32.o $(FUZZ_DIR)/obj/hv/sha256.o $(FUZZ_DIR)/obj/hv/txring.o \
$(FUZZ_DIR)/obj/hv/logbuf.o: private FUZZ_CFLAGS += -fno-sanitize-coverage=trace-cmp

# The module sources each test or fuzz target links, besides its own file.
# A new module: add tests/unit/test_<m>.c, SRC_<m>, and <m> to UNIT_TESTS
# (and tests/fuzz/fuzz_<m>.c plus <m> in FUZZ_TARGETS for a fuzz target).
SRC_config    := hv/config.c hv/fmt.c hv/str.c
SRC_memmap    := hv/memmap.c
SRC_partition := hv/partition.c hv/memmap.c hv/config.c hv/fmt.c hv/str.c
SRC_mb2       := efi/mb2.c hv/memmap.c
SRC_fmt       := hv/fmt.c
SRC_pagetable := hv/pagetable.c
SRC_elf       := hv/elf.c hv/mft.c hv/fmt.c hv/str.c
SRC_mft       := hv/mft.c hv/fmt.c hv/str.c
SRC_netstack  := guests/lib/net/proto.c guests/lib/net/driver.c guests/lib/net/stack.c
SRC_sched     := hv/sched.c
SRC_lifecycle := hv/lifecycle.c hv/sched.c hv/fmt.c
SRC_cap       := hv/cap.c
SRC_ept       := vmx/ept.c hv/pagetable.c
SRC_vmx_required := vmx/vmx_required.c hv/fmt.c
SRC_cpuid     := x86/cpuid.c
SRC_rtc       := x86/rtc.c
SRC_qport     := hv/qport.c hv/vswitch.c hv/service.c hv/port.c hv/fdb.c hv/fmt.c hv/str.c
SRC_exit_decode := vmx/exit_decode.c
SRC_svm_required := svm/svm_required.c hv/fmt.c
SRC_svm_exit_decode := svm/exit_decode.c
SRC_svm_npt   := svm/npt.c hv/pagetable.c
SRC_virtq     := hv/virtq.c hv/fmt.c
SRC_fdb       := hv/fdb.c
SRC_vswitch   := hv/vswitch.c hv/service.c hv/port.c hv/vport.c hv/virtq.c hv/fdb.c hv/fmt.c hv/str.c
SRC_frame     := $(SRC_vswitch)
SRC_crypto    := hv/crc32.c hv/sha256.c
SRC_ctl_frame := hv/ctl_frame.c hv/crc32.c hv/sha256.c hv/fmt.c
SRC_ctl       := $(SRC_ctl_frame)
SRC_logbuf    := hv/logbuf.c
SRC_store     := hv/store.c hv/crc32.c hv/fmt.c hv/str.c
SRC_control   := hv/txring.c hv/ctl_session.c hv/ctl_frame.c hv/store.c hv/logbuf.c hv/elf.c hv/mft.c hv/crc32.c hv/sha256.c hv/fmt.c hv/str.c

UNIT_TESTS   := config memmap partition mb2 fmt pagetable elf mft sched lifecycle cap ept virtq fdb vswitch netstack crypto ctl_frame logbuf store control vmx_required cpuid exit_decode rtc qport svm_required svm_exit_decode svm_npt
FUZZ_TARGETS := config mb2 memmap elf mft virtq frame ctl logbuf control
# Every ring field read once per pop (issue 16): virtq.c under a watch
# that counts each read of guest memory (page faults and single steps).
SRC_virtq_fetch := hv/virtq.c hv/fmt.c
UNIT_TESTS   += virtq_fetch
# ACPI CPU discovery (issue 12): firmware input, so fuzzed too.
SRC_madt      := hv/madt.c hv/fmt.c
UNIT_TESTS   += madt
FUZZ_TARGETS += madt
# The lifecycle from several host threads at once (issue 12): -pthread
# for its test only (private: the shared module objects stay as they are).
SRC_lifecycle_smp := $(SRC_lifecycle)
UNIT_TESTS   += lifecycle_smp
$(UNIT_DIR)/obj/tests/unit/test_lifecycle_smp.o $(UNIT_DIR)/test_lifecycle_smp: \
    private UNIT_CFLAGS += -pthread
# The same races forced on one thread (issue 16): the test includes
# hv/lifecycle.c whole, after a lock.h of its own that runs a step the
# test armed before the next lock_take.
SRC_lifecycle_race := hv/sched.c hv/fmt.c
UNIT_TESTS   += lifecycle_race
# PCI enumeration and the e1000 driver (issue 13): fake configuration
# space and a fake e1000 (register file and DMA) in the tests; what the
# NIC writes back into its descriptors is fuzzed.
SRC_pci       := hv/pci.c hv/madt.c hv/fmt.c
SRC_e1000     := hv/e1000.c hv/pci.c hv/fmt.c
UNIT_TESTS   += pci e1000
FUZZ_TARGETS += e1000
# The ACPI MCFG (firmware input, issue 16): pci_mcfg_segment0 fuzzed.
SRC_mcfg      := hv/pci.c hv/madt.c hv/fmt.c
FUZZ_TARGETS += mcfg
# The virtio-net driver over the modern PCI transport (issue 13): a fake
# device (capabilities, common configuration, the device side of the
# rings); what it writes back into the used rings is fuzzed.
SRC_virtio_net := hv/virtio_net.c hv/virtio_pci.c hv/pci.c hv/fmt.c
UNIT_TESTS   += virtio_net
FUZZ_TARGETS += virtio_net
# The guest library's TCP (issue 13): unit-tested against a hand-played
# peer, its input path fuzzed.
SRC_tcp       := guests/lib/net/tcp.c guests/lib/net/proto.c
UNIT_TESTS   += tcp
FUZZ_TARGETS += tcp
# httpd's request parser and replies (guests/httpd/http.c), with the guest
# headers it includes; the runtime calls are stubbed in the test.
SRC_http      := guests/httpd/http.c hv/fmt.c
UNIT_TESTS   += http
$(UNIT_DIR)/obj/tests/unit/test_http.o $(UNIT_DIR)/obj/guests/httpd/http.o: \
    private UNIT_CFLAGS += -Iguests/lib -Iinclude

# ctlnet's byte pump and admission rule (guests/ctlnet/pump.c, issue 14):
# a fake TCP client and a fake MF_HC_CTL_XFER.
SRC_ctlnet    := guests/ctlnet/pump.c
UNIT_TESTS   += ctlnet
# The hypervisor's side of it (hv/ctlnet.c, included by its test): the
# control guest's line, capability hooks and restarts, on a fake fleet.
SRC_ctlnet_hv := hv/fmt.c hv/str.c
UNIT_TESTS   += ctlnet_hv
# A summoned service's front (hv/service.c, issue 14) on a real switch:
# fake client and instance ports, a fake clock; its frame path fuzzed.
SRC_service   := hv/service.c hv/vswitch.c hv/port.c hv/fdb.c hv/fmt.c hv/str.c
UNIT_TESTS   += service
# The nested page tables' per-CPU roots and per-vCPU directories
# (x86/nested_root.c, issue 15), on a host allocator standing in for the pool.
SRC_nested_root := x86/nested_root.c vmx/ept.c hv/pagetable.c
UNIT_TESTS   += nested_root
FUZZ_TARGETS += service

# The product's warnings (WARN and STRICT_WARN, from the Makefile) for the
# sources under STRICT_DIRS, in unit and fuzz builds, and for the unit
# tests of those sources (STRICT_UNIT_TESTS). The other sources and tests
# join when hv/ joins STRICT_DIRS.
STRICT_UNIT_TESTS := $(UNIT_TESTS)
$(foreach d,$(STRICT_DIRS),$(UNIT_DIR)/obj/$(d)/%.o $(FUZZ_DIR)/obj/$(d)/%.o) \
$(patsubst %,$(UNIT_DIR)/obj/tests/unit/test_%.o,$(STRICT_UNIT_TESTS)): \
    TEST_WARN := $(WARN) $(STRICT_WARN)

UNIT_BINS := $(patsubst %,$(UNIT_DIR)/test_%,$(UNIT_TESTS))
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: unit fuzz
unit: $(UNIT_BINS)
fuzz: $(FUZZ_BINS)

# Objects are named .o (not .c.o) so the top Makefile's freestanding
# pattern rules never claim them.
$(UNIT_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (unit)"
	$(Q)$(UNIT_CC) $(UNIT_CFLAGS) $(TEST_WARN) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(TEST_WARN) -MMD -MP -c $< -o $@

define unit_rule
$(UNIT_DIR)/test_$(1): $(UNIT_DIR)/obj/tests/unit/test_$(1).o $(patsubst %.c,$(UNIT_DIR)/obj/%.o,$(SRC_$(1)))
	@echo "  LD      $$@"
	$$(Q)$$(UNIT_CC) $$(UNIT_CFLAGS) -o $$@ $$^ -lcmocka
endef

define fuzz_rule
$(FUZZ_DIR)/fuzz_$(1): $(FUZZ_DIR)/obj/tests/fuzz/fuzz_$(1).o $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(SRC_$(1)))
	@echo "  LD      $$@"
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $$^
endef

$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

# Coverage builds for make fuzz-long.
include tests/fuzz/cov.mk

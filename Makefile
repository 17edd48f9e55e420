# Mayfly: plain GNU make, objects under build/, warnings are errors.
#   make            build/BOOTX64.EFI and build/mayfly.elf (and guests, tools)
#   make test       unit tests, fuzz targets, system tests in Bochs and QEMU
#   make demo       boot the hypervisor with sample guests in Bochs
#   make bench      benchmarks, recorded in bench/RESULTS.md

BUILD   ?= build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
CC      ?= gcc
LD      ?= ld
OBJCOPY ?= objcopy

WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wvla -Wpointer-arith -Wundef
# The stricter set (issue 9): no implicit narrowing or sign change, no cast
# that drops const, a default in every switch, no global without a
# declaration. Objects under STRICT_DIRS get it on top of WARN (and so do
# their unit tests: tests/unit.mk); hv joins once its restructure lands.
STRICT_WARN := -Wconversion -Wsign-conversion -Wcast-qual -Wswitch-default \
           -Wmissing-declarations
STRICT_DIRS := vmx svm x86 efi hv
# Freestanding flags shared by the hypervisor's C and assembly. -fpic and
# hidden visibility let the same objects link into the relocatable UEFI
# application and the fixed-address Multiboot2 ELF.
HV_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-stack-protector \
           -fno-strict-aliasing -mno-red-zone -mgeneral-regs-only -fpic \
           -fvisibility=hidden -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
           -Iinclude $(WARN)
# GNU-EFI's headers are someone else's code: -isystem keeps their own
# warnings out without switching any warning off for ours.
EFI_CFLAGS := $(HV_CFLAGS) -fshort-wchar -maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI \
           -isystem /usr/include/efi -isystem /usr/include/efi/x86_64 \
           -Werror=incompatible-pointer-types

HV_SRC   := $(wildcard hv/*.c) $(wildcard hv/*.S)
X86_SRC  := $(wildcard x86/*.c) $(wildcard x86/*.S)
VMX_SRC  := $(wildcard vmx/*.c) $(wildcard vmx/*.S)
SVM_SRC  := $(wildcard svm/*.c) $(wildcard svm/*.S)
CORE_OBJ := $(patsubst %,$(BUILD)/%.o,$(HV_SRC) $(X86_SRC) $(VMX_SRC) $(SVM_SRC))
MB2_OBJ  := $(BUILD)/efi/mb2_entry.S.o $(BUILD)/efi/mb2_main.c.o $(BUILD)/efi/mb2.c.o
UEFI_OBJ := $(BUILD)/efi/uefi.c.o

EFI_LDS  := /usr/lib/elf_x86_64_efi.lds
EFI_CRT0 := /usr/lib/crt0-efi-x86_64.o

.PHONY: all test demo bench clean deps unit fuzz guests
all: $(BUILD)/mayfly.elf $(BUILD)/BOOTX64.EFI guests mfctl

# OBJ_WARN: the warnings an object gets beyond WARN (STRICT_DIRS).
$(foreach d,$(STRICT_DIRS),$(BUILD)/$(d)/%.o): OBJ_WARN := $(STRICT_WARN)

$(BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HV_CFLAGS) $(OBJ_WARN) -MMD -MP -c $< -o $@

$(BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(HV_CFLAGS) $(OBJ_WARN) -MMD -MP -c $< -o $@

# The network control guest's image, built into both hypervisor images
# (hv/ctlnet_blob.S, hv/ctlnet.c).
$(BUILD)/hv/ctlnet_blob.S.o: $(BUILD)/guests/ctlnet.elf
$(BUILD)/hv/ctlnet_blob.S.o: HV_CFLAGS += -DCTLNET_ELF='"$(BUILD)/guests/ctlnet.elf"'

$(BUILD)/efi/uefi.c.o: efi/uefi.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(EFI_CFLAGS) $(OBJ_WARN) -MMD -MP -c $< -o $@

$(BUILD)/mayfly.elf: $(MB2_OBJ) $(CORE_OBJ) efi/mb2.ld
	@echo "  LD      $@"
	$(Q)$(LD) -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
	    -T efi/mb2.ld -o $@ $(MB2_OBJ) $(CORE_OBJ)

$(BUILD)/uefi.so: $(UEFI_OBJ) $(CORE_OBJ)
	@echo "  LD      $@"
	$(Q)$(LD) -nostdlib -znocombreloc -shared -Bsymbolic -z noexecstack -T $(EFI_LDS) \
	    $(EFI_CRT0) $(UEFI_OBJ) $(CORE_OBJ) -L/usr/lib -lefi -lgnuefi -o $@

$(BUILD)/BOOTX64.EFI: $(BUILD)/uefi.so
	@echo "  OBJCOPY $@"
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	    -j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

include guests/guests.mk
include tools/tools.mk
include tests/tests.mk

deps:
	tools/install-deps.sh

clean:
	rm -rf $(BUILD)

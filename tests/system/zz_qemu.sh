# The guest suites again on AMD-V, under QEMU's software CPU (-cpu max:
# SVM with nested paging): the Multiboot2 ISO (GRUB, like Bochs) and the
# UEFI image under OVMF, the one a USB stick boots (for the control
# channel, the disk image `mfctl image` makes, booted by `mfctl run --qemu`). Same expectations as
# in Bochs, except what depends on Bochs' memory layout. Names are
# prefixed qemu_ and uefi_. MAYFLY_QEMU=0 skips it.
source "$(dirname "$0")/lib.sh"
dir=$(dirname "$0")

if [ "${MAYFLY_QEMU:-1}" = 0 ]; then
    echo "SKIP: qemu variant: turned off with MAYFLY_QEMU=0"
    end_of_script
fi
for script in guests.sh adversarial.sh network.sh; do
    MAYFLY_EMULATOR=qemu SYSTEST_OUT=$SYSTEST_OUT/qemu bash "$dir/$script" |
        nested_results qemu_ "$script"
done
for script in guests.sh adversarial.sh network.sh; do
    MAYFLY_EMULATOR=qemu-uefi SYSTEST_OUT=$SYSTEST_OUT/uefi bash "$dir/$script" |
        nested_results uefi_ "$script"
done
# The control channel: mfctl run --qemu boots the image mfctl image made.
CONTROL_EMU=--qemu SYSTEST_OUT=$SYSTEST_OUT/uefi bash "$dir/control.sh" |
    nested_results uefi_ control.sh
end_of_script

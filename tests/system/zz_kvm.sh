# The guest, adversarial and Solo5 system tests again, under QEMU/KVM instead of
# Bochs, where the host offers VT-x to KVM guests (nested). Elsewhere (as
# on every machine here: AMD CPUs, no VT-x) the variant reports itself
# skipped. MAYFLY_KVM=0 skips it even where it could run.
source "$(dirname "$0")/lib.sh"
dir=$(dirname "$0")

if [ "${MAYFLY_KVM:-1}" = 0 ]; then
    echo "SKIP: kvm variant: turned off with MAYFLY_KVM=0"
    end_of_script
fi
if ! kvm_vtx_available; then
    echo "SKIP: kvm variant: no VT-x capable KVM here (needs /dev/kvm on an Intel host with nested=1)"
    end_of_script
fi
for script in guests.sh adversarial.sh solo5.sh; do
    MAYFLY_EMULATOR=kvm SYSTEST_OUT=$SYSTEST_OUT/kvm bash "$dir/$script" |
        nested_results kvm_ "$script"
done
end_of_script

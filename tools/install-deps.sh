#!/usr/bin/env bash
# Installs the Debian packages Mayfly's build, demo and tests need.
#   tools/install-deps.sh                   install what is missing (as root)
#   tools/install-deps.sh --check-or-install  same, quiet when nothing is missing
#   tools/install-deps.sh --bench           the same plus what only make bench needs
# As a non-root user it prints the apt-get command to run instead.
set -u
PACKAGES="make gcc binutils gnu-efi qemu-system-x86 ovmf bochs bochsbios vgabios
grub-pc-bin grub-common xorriso mtools dosfstools gdisk libcmocka-dev clang lld
libclang-rt-14-dev python3 socat coreutils curl iproute2"
# make bench renders its plots next to bench/RESULTS.md.
BENCH_PACKAGES="gnuplot-nox"
[ "${1:-}" = --bench ] && PACKAGES="$PACKAGES $BENCH_PACKAGES"

missing=()
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "mayfly: missing Debian packages: ${missing[*]}" >&2
    echo "mayfly: install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "mayfly: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "mayfly: apt-get install failed; run it by hand: apt-get install ${missing[*]}" >&2; exit 1; }

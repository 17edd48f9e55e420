# The core's layering (no emulator): the include graph of hv/ has no
# cycle and hv/ includes no arch or boot header (docs/architecture.md).
cd "$(dirname "$0")/../.." || exit 1
source tests/system/lib.sh
if out=$(python3 tests/lib/include_graph.py 2>&1); then
    echo "PASS: hv_include_graph_has_no_cycle ($(echo "$out" | tail -1))"
else
    echo "FAIL: hv_include_graph_has_no_cycle:"
    echo "$out" | sed 's/^/    /'
fi

# The checker itself finds a cycle and an arch include when there is one.
t=$(mktemp -d)
printf '#include "b.h"\n' > "$t/a.c"; printf '#include "a.h"\n' > "$t/b.c"
printf '#include "../vmx/vmx.h"\n' > "$t/c.c"; : > "$t/a.h"; : > "$t/b.h"
out=$(python3 tests/lib/include_graph.py "$t" 2>&1)
if [ $? -ne 0 ] && grep -q 'include cycle: a <-> b' <<<"$out" && grep -q 'c.c includes ../vmx' <<<"$out"; then
    echo "PASS: include_graph_finds_cycles"
else
    echo "FAIL: include_graph_finds_cycles: $out"
fi
rm -rf "$t"
end_of_script

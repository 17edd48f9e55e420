/* benchbig: the bench guest with 1 MiB of initialised data, so that its
 * launch copies a 1 MiB image. */
#include "../bench/main.c"

#define PAD_BYTES (1024 * 1024)

/* Non-zero so that it lands in .data (copied), not .bss (zeroed). */
const volatile unsigned char benchbig_pad[PAD_BYTES] = { 1 };

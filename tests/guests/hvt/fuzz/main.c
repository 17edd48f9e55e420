/*
 * hvt-fuzz: the in-guest fuzzer of the Solo5 personality (issue 16),
 * hcfuzz's sibling for hvt unikernels. Manifest: a network device
 * "service" (handle 1) and a block device "storage" (handle 2).
 *
 * Makes N hypercalls, each a random one of WALLTIME, PUTS, POLL,
 * BLOCK_WRITE, BLOCK_READ, NET_WRITE and NET_READ (never HALT) with
 * random fields: handles around the real ones (0 to 4, and wild ones),
 * block offsets and lengths whole sectors or not, inside the disk or
 * past it, frames of any length with the device's MAC as their source or
 * another. The argument struct and the buffers it names always lie in a
 * scratch area of this guest's memory, whose bytes are random, so the
 * host must answer every call (an hvt guest whose struct or buffer lies
 * outside its memory is ended, as Solo5's tender ends it). Each answer
 * is checked against what the interface promises:
 *   - ret is one of HVT_R_OK, AGAIN, EINVAL, EUNSPEC;
 *   - a call on a handle that is not the right kind of device: EINVAL;
 *   - a block request of whole sectors inside the disk: OK, and a read
 *     of a sector written before gives back what was written;
 *   - a request past the disk's end, not of whole sectors or over
 *     HVT_FUZZ_BLOCK_MAX bytes (the personality's limit per request):
 *     EINVAL;
 *   - NET_READ OK: a frame no longer than the buffer, at least a header;
 *   - POLL: ret is the number of bits set, and only handle 1's bit;
 *   - WALLTIME never goes back.
 *
 * Args: "N [SEED [wild]]" (default 20000 calls, seed 1; the guest id,
 * when the boot info carries Mayfly's struct hvt_mayfly, is added to the
 * seed's top half, so each instance of a line has its own stream and
 * the whole run repeats exactly in Bochs). With "wild",
 * about one call in 512 names a struct or buffer outside the guest's
 * memory, or a port that is no hypercall, and the host must end the
 * guest then (config lines with count= run many such instances).
 *
 * Prints at the end
 *     hvt-fuzz: N calls (seed S): per call: 1:C1 2:C2 ... 7:C7
 * and exits 0, or at the first broken promise
 *     hvt-fuzz: FAIL call <i> <name>: <what>
 * and exits 1. In wild mode, surviving to the end is a failure too:
 *     hvt-fuzz: FAIL survived every wild call
 * Exit status 2 on bad arguments.
 */
#include "hvtlib.h"

HVT_MANIFEST(2, HVT_DEVICE_NET("service"), HVT_DEVICE_BLOCK("storage"));

#define NET_HANDLE      1
#define BLOCK_HANDLE    2
#define SCRATCH_BYTES   (64 * 1024)
#define STRUCTS_BYTES   4096            /* the scratch area's first page: argument structs */
#define STRUCT_ROOM     64              /* the largest argument struct fits */
#define REFILL_EVERY    64
#define SHADOW_SECTORS  64              /* sectors whose last write is remembered */
#define WILD_ONE_IN     512
#define HVT_FUZZ_BLOCK_MAX (1u << 20)   /* bytes per block request the personality takes */

static uint8_t scratch[SCRATCH_BYTES] __attribute__((aligned(4096)));
static uint64_t state;
static uint64_t calls_done;
static uint64_t per_call[HVT_HC_COUNT];
static uint64_t last_walltime;
static int wild;

static struct {
    uint64_t capacity, block_size;
    uint8_t mac[6];
} dev;

/* What each remembered sector was last written with: a seed that
 * regenerates its bytes (0: never written, the disk's own pattern). */
static uint64_t shadow[SHADOW_SECTORS];

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static void refill(void)
{
    for (uint32_t i = 0; i < SCRATCH_BYTES; i += 8) {
        uint64_t v = next();
        __builtin_memcpy(&scratch[i], &v, 8);
    }
}

static const char *const names[HVT_HC_COUNT] = {
    [HVT_HC_WALLTIME] = "WALLTIME", [HVT_HC_PUTS] = "PUTS", [HVT_HC_POLL] = "POLL",
    [HVT_HC_BLOCK_WRITE] = "BLOCK_WRITE", [HVT_HC_BLOCK_READ] = "BLOCK_READ",
    [HVT_HC_NET_WRITE] = "NET_WRITE", [HVT_HC_NET_READ] = "NET_READ",
};

/* The random PUTS fill this guest's share of the console ring, and what
 * does not fit is dropped: a line that matters waits for it to drain. */
static void drained(void)
{
    hvt_poll(300ull * 1000 * 1000, NULL);
}

static int fail(unsigned nr, const char *what, uint64_t a, uint64_t b)
{
    drained();
    hvt_printf("\nhvt-fuzz: FAIL call %lu %s: %s (%lu, %lu)\n", (unsigned long)calls_done,
               names[nr], what, (unsigned long)a, (unsigned long)b);
    return 1;
}

static int ret_known(int32_t r)
{
    return r == HVT_R_OK || r == HVT_R_AGAIN || r == HVT_R_EINVAL || r == HVT_R_EUNSPEC;
}

/* An argument struct somewhere in the scratch area's first page (8-byte
 * aligned), its bytes random until the caller sets the fields. Buffers
 * lie above that page, so that filling one never rewrites the struct
 * naming it. */
static void *struct_at(void)
{
    uint64_t off = (next() % ((STRUCTS_BYTES - STRUCT_ROOM) / 8)) * 8;

    return &scratch[off];
}

/* A buffer of len bytes in the scratch area above the structs (len <=
 * SCRATCH_BYTES - STRUCTS_BYTES). */
static uint64_t buffer(uint64_t len)
{
    return (uint64_t)(uintptr_t)scratch + STRUCTS_BYTES +
           next() % (SCRATCH_BYTES - STRUCTS_BYTES - len + 1);
}

/* Handles around the real ones, now and then a wild one. */
static uint64_t handle(uint64_t real)
{
    uint64_t r = next();

    switch (r % 8) {
    case 0: return (r >> 8) % 5;
    case 1: return r >> 8;
    default: return real;
    }
}

/* The bytes sector s holds after a write made with seed v. */
static void sector_bytes(uint8_t *out, uint64_t len, uint64_t v)
{
    for (uint64_t i = 0; i < len; i++) {
        v ^= v << 13;
        v ^= v >> 7;
        v ^= v << 17;
        out[i] = (uint8_t)v;
    }
}

static int do_walltime(void)
{
    volatile struct hvt_hc_walltime *a = struct_at();

    hvt_hypercall(HVT_HC_WALLTIME, a);
    if (a->nsecs < last_walltime)
        return fail(HVT_HC_WALLTIME, "went back", a->nsecs, last_walltime);
    last_walltime = a->nsecs;
    return 0;
}

static int do_puts(void)
{
    volatile struct hvt_hc_puts *a = struct_at();
    uint64_t len = next() % 24;

    a->data = buffer(len);
    a->len = len;
    /* Printable bytes only: the log stays readable. */
    for (uint64_t i = 0; i < len; i++)
        ((uint8_t *)(uintptr_t)a->data)[i] = (uint8_t)(' ' + next() % 95);
    hvt_hypercall(HVT_HC_PUTS, a);
    return 0;
}

static int do_poll(void)
{
    volatile struct hvt_hc_poll *a = struct_at();
    uint64_t set;

    a->timeout_nsecs = next() % 4 ? next() % 20000 : 0;
    a->ready_set = next();
    a->ret = (int32_t)next();
    hvt_hypercall(HVT_HC_POLL, a);
    set = a->ready_set;
    if (set & ~(1ull << NET_HANDLE))
        return fail(HVT_HC_POLL, "ready set names a handle that is no network device", set, 0);
    if (a->ret != (set ? 1 : 0))
        return fail(HVT_HC_POLL, "ret is not the number of bits set", (uint64_t)a->ret, set);
    return 0;
}

static int do_block(unsigned nr)
{
    volatile struct hvt_hc_block *a = struct_at();
    uint64_t bs = dev.block_size, sectors = dev.capacity / bs, r = next();
    uint64_t offset, len, h = handle(BLOCK_HANDLE);
    int inside;

    switch (r % 6) {
    case 0: offset = next() % (dev.capacity + 2 * bs); len = next() % (4 * bs); break;
    case 1: offset = sectors * bs; len = bs; break;                          /* at the end */
    case 2: offset = (sectors - 1) * bs; len = 2 * bs; break;               /* past it */
    default: offset = (next() % sectors) * bs; len = (1 + next() % 4) * bs; break;
    }
    if (len > SCRATCH_BYTES - STRUCTS_BYTES)
        len = bs;
    inside = offset % bs == 0 && len && len % bs == 0 && len <= HVT_FUZZ_BLOCK_MAX &&
             offset < dev.capacity && len <= dev.capacity - offset;
    a->handle = h;
    a->offset = offset;
    a->len = len;
    a->data = buffer(len);
    a->ret = (int32_t)next();
    if (nr == HVT_HC_BLOCK_WRITE && inside && h == BLOCK_HANDLE) {
        for (uint64_t s = 0; s < len / bs; s++) {
            uint64_t sector = offset / bs + s, v = next() | 1;
            sector_bytes((uint8_t *)(uintptr_t)(a->data + s * bs), bs, v);
            if (sector < SHADOW_SECTORS)
                shadow[sector] = v;
        }
    }
    hvt_hypercall(nr, a);
    if (!ret_known(a->ret))
        return fail(nr, "unknown ret", (uint64_t)(int64_t)a->ret, 0);
    if (h != BLOCK_HANDLE) {
        if (a->ret != HVT_R_EINVAL)
            return fail(nr, "a handle that is no block device was not refused", h,
                        (uint64_t)a->ret);
        return 0;
    }
    if (!inside) {
        if (a->ret != HVT_R_EINVAL)
            return fail(nr, "a request not of whole sectors inside the disk was not refused",
                        offset, len);
        return 0;
    }
    if (a->ret != HVT_R_OK)
        return fail(nr, "a request of whole sectors inside the disk failed", offset, len);
    if (nr == HVT_HC_BLOCK_READ) {
        static uint8_t want[4096];
        for (uint64_t s = 0; s < len / bs && bs <= sizeof(want); s++) {
            uint64_t sector = offset / bs + s;
            if (sector >= SHADOW_SECTORS || !shadow[sector])
                continue;
            sector_bytes(want, bs, shadow[sector]);
            if (memcmp(want, (const void *)(uintptr_t)(a->data + s * bs), bs) != 0)
                return fail(nr, "a sector read back is not what was written", sector, 0);
        }
    }
    return 0;
}

static int do_net_write(void)
{
    volatile struct hvt_hc_net *a = struct_at();
    uint64_t len = next() % 1600, h = handle(NET_HANDLE);
    uint8_t *frame;

    a->handle = h;
    a->len = len;
    a->data = buffer(len);
    a->ret = (int32_t)next();
    frame = (uint8_t *)(uintptr_t)a->data;
    if (len >= 12 && next() % 4) {
        memcpy(frame + 6, dev.mac, 6);              /* mostly its own source */
        if (next() % 2)
            memset(frame, 0xff, 6);                 /* a broadcast: to everyone */
    }
    hvt_hypercall(HVT_HC_NET_WRITE, a);
    if (!ret_known(a->ret))
        return fail(HVT_HC_NET_WRITE, "unknown ret", (uint64_t)(int64_t)a->ret, 0);
    if (h != NET_HANDLE && a->ret != HVT_R_EINVAL)
        return fail(HVT_HC_NET_WRITE, "a handle that is no network device was not refused", h,
                    (uint64_t)a->ret);
    return 0;
}

static int do_net_read(void)
{
    volatile struct hvt_hc_net *a = struct_at();
    uint64_t room = next() % 2048, h = handle(NET_HANDLE);

    a->handle = h;
    a->len = room;
    a->data = buffer(room);
    a->ret = (int32_t)next();
    hvt_hypercall(HVT_HC_NET_READ, a);
    if (!ret_known(a->ret))
        return fail(HVT_HC_NET_READ, "unknown ret", (uint64_t)(int64_t)a->ret, 0);
    if (h != NET_HANDLE && a->ret != HVT_R_EINVAL)
        return fail(HVT_HC_NET_READ, "a handle that is no network device was not refused", h,
                    (uint64_t)a->ret);
    if (a->ret == HVT_R_OK && (a->len > room || a->len < 14))
        return fail(HVT_HC_NET_READ, "a frame longer than the buffer or shorter than a header",
                    a->len, room);
    return 0;
}

/* One call the host must end this guest for: a struct or buffer outside
 * its memory, or a port that is no hypercall. */
static void wild_call(void)
{
    uint64_t r = next(), mem = hvt_boot_info->mem_size;
    volatile struct hvt_hc_puts *p = struct_at();

    switch (r % 3) {
    case 0:
        __asm__ volatile("outl %0, %1" : : "a"((uint32_t)(mem + (r >> 8) % 4096)),
                         "Nd"((uint16_t)(HVT_PIO_BASE + HVT_HC_PUTS)) : "memory");
        break;
    case 1:
        p->data = mem - (r >> 8) % 64;
        p->len = 64 + (r >> 16) % 4096;
        hvt_hypercall(HVT_HC_PUTS, p);
        break;
    default:
        __asm__ volatile("outl %0, %1" : : "a"(0u),
                         "Nd"((uint16_t)(HVT_PIO_BASE + HVT_HC_COUNT + (r >> 8) % 16))
                         : "memory");
        break;
    }
}

static int one_call(void)
{
    static const unsigned pick[] = {
        HVT_HC_WALLTIME, HVT_HC_PUTS, HVT_HC_POLL, HVT_HC_BLOCK_WRITE, HVT_HC_BLOCK_READ,
        HVT_HC_BLOCK_READ, HVT_HC_NET_WRITE, HVT_HC_NET_READ,
    };
    unsigned nr = pick[next() % (sizeof(pick) / sizeof(pick[0]))];

    if (wild && next() % WILD_ONE_IN == 0)
        wild_call();
    per_call[nr]++;
    switch (nr) {
    case HVT_HC_WALLTIME: return do_walltime();
    case HVT_HC_PUTS: return do_puts();
    case HVT_HC_POLL: return do_poll();
    case HVT_HC_NET_WRITE: return do_net_write();
    case HVT_HC_NET_READ: return do_net_read();
    default: return do_block(nr);
    }
}

int main(const struct hvt_boot_info *bi)
{
    uint64_t calls = 20000, seed = 1, h;
    char word[24];
    const struct hvt_mft_entry *net, *blk;

    if ((hvt_word(hvt_cmdline(), 0, word, sizeof(word)) == 0 &&
         hvt_parse_u64(word, &calls) < 0) ||
        (hvt_word(hvt_cmdline(), 1, word, sizeof(word)) == 0 &&
         hvt_parse_u64(word, &seed) < 0)) {
        hvt_printf("hvt-fuzz: bad arguments '%s' (expected: calls [seed [wild]], decimal)\n",
                   hvt_cmdline());
        return 2;
    }
    wild = hvt_word(hvt_cmdline(), 2, word, sizeof(word)) == 0 && !strcmp(word, "wild");
    net = hvt_device("service", HVT_MFT_NET_BASIC, &h);
    blk = hvt_device("storage", HVT_MFT_BLOCK_BASIC, &h);
    if (!net || !net->attached || !blk || !blk->attached || !blk->u.block.block_size ||
        blk->u.block.block_size > 4096 || blk->u.block.capacity < blk->u.block.block_size) {
        hvt_puts("hvt-fuzz: FAIL the manifest copy lacks an attached service or storage\n");
        return 1;
    }
    dev.capacity = blk->u.block.capacity;
    dev.block_size = blk->u.block.block_size;
    memcpy(dev.mac, net->u.net.mac, 6);
    {
        /* Each instance of a line its own stream: the guest id (in
         * Mayfly's struct after the boot info) mixed into the seed. */
        const struct hvt_mayfly *m = (const struct hvt_mayfly *)(bi + 1);
        if (m->magic == HVT_MAYFLY_MAGIC)
            seed += (uint64_t)m->guest_id << 32;
    }
    state = seed * 0x9e3779b97f4a7c15ull | 1;
    for (calls_done = 0; calls_done < calls; calls_done++) {
        if (calls_done % REFILL_EVERY == 0)
            refill();
        if (one_call())
            return 1;
    }
    drained();
    if (wild) {
        hvt_puts("\nhvt-fuzz: FAIL survived every wild call\n");
        return 1;
    }
    hvt_printf("\nhvt-fuzz: %lu calls (seed 0x%lx): per call: 1:%lu 2:%lu 3:%lu 4:%lu 5:%lu "
               "6:%lu 7:%lu\n", (unsigned long)calls, (unsigned long)seed,
               (unsigned long)per_call[1], (unsigned long)per_call[2],
               (unsigned long)per_call[3], (unsigned long)per_call[4],
               (unsigned long)per_call[5], (unsigned long)per_call[6],
               (unsigned long)per_call[7]);
    return 0;
}

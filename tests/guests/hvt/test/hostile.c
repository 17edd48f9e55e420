/* hvt-test's hostile modes: hypercalls the host must refuse, ending this
 * guest alone (protocol: main.c). */
#include "test.h"

#define BAD_STRUCT_GPA  0xfffff000u
#define BAD_PORT        0x5ff
#define IN_PORT         (HVT_PIO_BASE + 1)

int test_bad_struct(const struct hvt_boot_info *bi)
{
    (void)bi;
    hvt_printf("bad-struct: PUTS with its argument at 0x%x\n", BAD_STRUCT_GPA);
    __asm__ volatile("outl %0, %1" : : "a"(BAD_STRUCT_GPA),
                     "Nd"((uint16_t)(HVT_PIO_BASE + HVT_HC_PUTS)) : "memory");
    hvt_puts("bad-struct: survived\n");
    return 1;
}

int test_puts_wrap(const struct hvt_boot_info *bi)
{
    volatile struct hvt_hc_puts p = { .data = bi->mem_size - 16, .len = ~0ull - 7 };

    hvt_printf("puts-wrap: PUTS of 0x%lx bytes at 0x%lx\n", (unsigned long)p.len,
               (unsigned long)p.data);
    hvt_hypercall(HVT_HC_PUTS, &p);
    hvt_puts("puts-wrap: survived\n");
    return 1;
}

static const uint64_t bad_handles[] = { 0, 1, 63, 64, 1ull << 40 };

/* One call with one handle; 0 when it returned HVT_R_EINVAL. */
static int bad_handle_call(unsigned call, uint64_t handle, uint8_t *buf, size_t size)
{
    static const char *const names[] = {
        [HVT_HC_BLOCK_READ] = "BLOCK_READ", [HVT_HC_BLOCK_WRITE] = "BLOCK_WRITE",
        [HVT_HC_NET_READ] = "NET_READ", [HVT_HC_NET_WRITE] = "NET_WRITE",
    };
    uint64_t len = size;
    int r;

    switch (call) {
    case HVT_HC_BLOCK_READ: r = hvt_block_read(handle, 0, buf, size); break;
    case HVT_HC_BLOCK_WRITE: r = hvt_block_write(handle, 0, buf, size); break;
    case HVT_HC_NET_READ: r = hvt_net_read(handle, buf, &len); break;
    default: r = hvt_net_write(handle, buf, 60); break;
    }
    if (r == HVT_R_EINVAL)
        return 0;
    hvt_printf("bad-handle: FAIL %s handle %lu returned %d, expected %d\n", names[call],
               (unsigned long)handle, r, HVT_R_EINVAL);
    return 1;
}

int test_bad_handle(const struct hvt_boot_info *bi)
{
    static const unsigned calls[] = {
        HVT_HC_BLOCK_READ, HVT_HC_BLOCK_WRITE, HVT_HC_NET_READ, HVT_HC_NET_WRITE,
    };
    static uint8_t buf[2048];
    int failed = 0;

    (void)bi;
    for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++)
        for (size_t h = 0; h < sizeof(bad_handles) / sizeof(bad_handles[0]); h++)
            failed |= bad_handle_call(calls[c], bad_handles[h], buf, 512);
    if (failed)
        return 1;
    hvt_puts("bad-handle ok\n");
    return 0;
}

int test_bad_port(const struct hvt_boot_info *bi)
{
    (void)bi;
    hvt_printf("bad-port: outl to port 0x%x\n", BAD_PORT);
    __asm__ volatile("outl %0, %1" : : "a"(0u), "Nd"((uint16_t)BAD_PORT) : "memory");
    hvt_puts("bad-port: survived\n");
    return 1;
}

int test_spin(const struct hvt_boot_info *bi)
{
    (void)bi;
    hvt_puts("spin: looping forever\n");
    for (;;)
        __asm__ volatile("pause");
}

int test_in_port(const struct hvt_boot_info *bi)
{
    uint32_t v;

    (void)bi;
    hvt_printf("in-port: inl from port 0x%x\n", IN_PORT);
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)IN_PORT) : "memory");
    hvt_printf("in-port: survived, read 0x%x\n", v);
    return 1;
}

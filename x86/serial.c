/* 16550 UARTs: COM1 carries the boot log, COM2 the control channel.
 * Loops are bounded so that a machine without a UART (reads return 0xff
 * or never signal) cannot hang the hypervisor. No interrupts: COM2 is
 * polled by the scheduler. */
#include "../hv/arch.h"
#include "x86.h"

#define COM1        0x3f8
#define COM2        0x2f8
#define UART_RBR    0       /* receive buffer */
#define UART_THR    0       /* transmit holding register */
#define UART_IER    1
#define UART_DLL    0       /* divisor latch, with LCR.DLAB set */
#define UART_DLM    1
#define UART_FCR    2
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define LCR_8N1     0x03
#define LCR_DLAB    0x80
#define LSR_DR      0x01    /* data ready: a received byte waits */
#define LSR_THRE    0x20    /* holding register empty: may write a byte */
#define LSR_TEMT    0x40    /* transmitter empty: every byte has left */
#define SPIN_LIMIT  1000000
#define FIFO_SIZE   16      /* the 16550A's transmit FIFO, enabled below */

struct uart {
    uint16_t base;
    unsigned fifo_room;
};

static struct uart com1 = { COM1, 0 }, com2 = { COM2, 0 };

static void uart_wait(const struct uart *u, uint8_t bit)
{
    for (int i = 0; i < SPIN_LIMIT; i++)
        if (inb((uint16_t)(u->base + UART_LSR)) & bit)
            return;
}

static void uart_init(struct uart *u)
{
    outb((uint16_t)(u->base + UART_IER), 0x00);
    outb((uint16_t)(u->base + UART_LCR), LCR_DLAB);
    outb((uint16_t)(u->base + UART_DLL), 1);        /* 115200 baud */
    outb((uint16_t)(u->base + UART_DLM), 0);
    outb((uint16_t)(u->base + UART_LCR), LCR_8N1);  /* it starts in 5-bit mode on Bochs */
    outb((uint16_t)(u->base + UART_FCR), 0xc7);     /* FIFOs on, cleared */
    outb((uint16_t)(u->base + UART_MCR), 0x03);     /* DTR, RTS */
    u->fifo_room = 0;
}

/* THRE with the FIFO on means the whole FIFO is empty: after seeing it,
 * up to FIFO_SIZE bytes go out without waiting again. */
static void uart_putc(struct uart *u, uint8_t c)
{
    if (!u->fifo_room) {
        uart_wait(u, LSR_THRE);
        u->fifo_room = FIFO_SIZE;
    }
    outb((uint16_t)(u->base + UART_THR), c);
    u->fifo_room--;
}

/* Writes what the FIFO takes now, without waiting: the count written. */
static size_t uart_write_some(struct uart *u, const uint8_t *buf, size_t len)
{
    size_t n = 0;

    if (!u->fifo_room && (inb((uint16_t)(u->base + UART_LSR)) & LSR_THRE))
        u->fifo_room = FIFO_SIZE;
    while (n < len && u->fifo_room) {
        outb((uint16_t)(u->base + UART_THR), buf[n++]);
        u->fifo_room--;
    }
    return n;
}

void console_arch_init(void)
{
    uart_init(&com1);
}

void console_arch_putc(char c)
{
    uart_putc(&com1, (uint8_t)c);
}

size_t console_arch_write_some(const uint8_t *buf, size_t len)
{
    return uart_write_some(&com1, buf, len);
}

void console_arch_flush(void)
{
    uart_wait(&com1, LSR_TEMT);
    com1.fifo_room = 0;
}

void control_arch_init(void)
{
    uart_init(&com2);
}

size_t control_arch_read(uint8_t *buf, size_t max)
{
    size_t n = 0;
    uint8_t lsr;

    /* 0xff: no UART there at all. */
    while (n < max && (lsr = inb(COM2 + UART_LSR)) != 0xff && (lsr & LSR_DR))
        buf[n++] = inb(COM2 + UART_RBR);
    return n;
}

size_t control_arch_write_some(const uint8_t *buf, size_t len)
{
    return uart_write_some(&com2, buf, len);
}

void control_arch_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        uart_putc(&com2, buf[i]);
}

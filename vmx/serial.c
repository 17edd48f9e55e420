/* 16550 UART on COM1: the boot log. Loops are bounded so that a machine
 * without a UART (reads return 0xff or never signal) cannot hang boot. */
#include "../hv/arch.h"
#include "x86.h"

#define COM1        0x3f8
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
#define LSR_THRE    0x20    /* holding register empty: may write a byte */
#define LSR_TEMT    0x40    /* transmitter empty: every byte has left */
#define SPIN_LIMIT  1000000
#define FIFO_SIZE   16      /* the 16550A's transmit FIFO, enabled below */

static unsigned fifo_room;

static void serial_wait(uint8_t bit)
{
    for (int i = 0; i < SPIN_LIMIT; i++)
        if (inb(COM1 + UART_LSR) & bit)
            return;
}

void console_arch_init(void)
{
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1);           /* 115200 baud */
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, LCR_8N1);     /* it starts in 5-bit mode on Bochs */
    outb(COM1 + UART_FCR, 0xc7);        /* FIFO on, cleared */
    outb(COM1 + UART_MCR, 0x03);
    fifo_room = 0;
}

/* THRE with the FIFO on means the whole FIFO is empty: after seeing it,
 * up to FIFO_SIZE bytes go out without waiting again. */
void console_arch_putc(char c)
{
    if (!fifo_room) {
        serial_wait(LSR_THRE);
        fifo_room = FIFO_SIZE;
    }
    outb(COM1 + UART_THR, (uint8_t)c);
    fifo_room--;
}

void console_arch_flush(void)
{
    serial_wait(LSR_TEMT);
    fifo_room = 0;
}

/*
 * mfctl: builds Mayfly boot images, boots them in emulators and drives a
 * running hypervisor over its control channel. One table of subcommands;
 * adding one is adding a row and its cmd_<name>().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mfctl.h"
#include "session.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;            /* one line in the overview */
    const char *usage;              /* `mfctl <name> --help` */
    int hidden;                     /* left out of the overview (test helpers) */
};

static const char usage_image[] =
    "usage: mfctl image -c CONFIG -o OUTPUT [--efi FILE] [--size MIB] [IMAGE...]\n"
    "\n"
    "Builds a GPT disk image, ready to write to a USB stick or to boot with\n"
    "'mfctl run': one EFI system partition (FAT32 from 64 MiB, at 1 MiB) holding\n"
    "EFI/BOOT/BOOTX64.EFI, mayfly/mayfly.conf and every file the config names:\n"
    "guest images (Mayfly or Solo5 hvt) and the disks of block:<device>=<file>.\n"
    "Nothing is written unless the config passes the hypervisor's own parser,\n"
    "every image its own ELF checks, and every disk is a whole number of sectors.\n"
    "\n"
    "  -c, --config FILE   mayfly.conf to put on the image (required)\n"
    "  -o, --output FILE   the disk image to write (required; replaced if it exists)\n"
    "      --efi FILE      UEFI application (default: BOOTX64.EFI next to mfctl)\n"
    "      --size MIB      image size in MiB (default 64, or more if the files need\n"
    "                      it; FAT32 from 64 MiB, FAT12/16 below)\n"
    "  -h, --help          this text\n"
    "  IMAGE...            guest images and disks; the config's image=NAME and\n"
    "                      block:<device>=NAME are looked up among these by base\n"
    "                      name, then next to the config file\n";

static const char usage_run[] =
    "usage: mfctl run IMAGE [--qemu | --bochs] [--control SOCKET] [--timeout SECONDS]\n"
    "                 [--memory MIB] [--cpus N] [--elf FILE] [--cpu MODEL] [--ovmf FILE]\n"
    "\n"
    "Boots a disk image built by 'mfctl image' in an emulator. The hypervisor's\n"
    "serial console (COM1) is copied to stdout; mfctl exits with the status the\n"
    "hypervisor powered off with (0: all is well).\n"
    "\n"
    "      --qemu          QEMU + OVMF, booting the image's UEFI entry (default);\n"
    "                      KVM is used when /dev/kvm works and the CPU has VT-x,\n"
    "                      otherwise TCG, where the hypervisor runs guests with\n"
    "                      AMD-V on QEMU's emulated CPU\n"
    "      --bochs         Bochs 2.7 (emulated VT-x with EPT), booting the Multiboot2\n"
    "                      build through GRUB with the files of the image's mayfly/\n"
    "      --control SOCKET\n"
    "                      COM2, the control channel, as a Unix socket server at\n"
    "                      SOCKET (one client at a time; output is dropped while\n"
    "                      none is connected)\n"
    "      --timeout SECONDS\n"
    "                      stop the emulator after SECONDS and exit 124\n"
    "      --memory MIB    machine memory (default 512)\n"
    "      --cpus N        CPUs of the machine (default 1): 1 to 14 with --bochs\n"
    "                      (Bochs 2.7 panics at 15), 1 to 64 with --qemu\n"
    "      --elf FILE      --bochs: the Multiboot2 hypervisor (default: mayfly.elf\n"
    "                      next to mfctl)\n"
    "      --cpu MODEL     --bochs: Bochs CPU model (default tigerlake)\n"
    "      --ovmf FILE     --qemu: the firmware (default /usr/share/ovmf/OVMF.fd;\n"
    "                      each run boots a private copy)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: the hypervisor's power-off status; 124 on --timeout; 125 when\n"
    "the emulator failed or stopped without a power-off; 2 on a usage error.\n";

static const char usage_load[] =
    "usage: mfctl load --control SOCKET [--no-check] [--disk] FILE...\n"
    "\n"
    "Uploads guest images (ELF files: Mayfly or Solo5 hvt) and disks (the backing\n"
    "of a Solo5 block device, block:<device>=NAME) to the running hypervisor's\n"
    "store, each under its base name, for 'mfctl start'. A file without the ELF\n"
    "magic is a disk, unless its name ends in .elf or .hvt. Each image is first\n"
    "checked with the hypervisor's own ELF validator; nothing is uploaded if one\n"
    "fails. The hypervisor checks it again, and stores a file only when it\n"
    "arrived whole (CRC-32) and, for an image, passes. A progress bar goes to\n"
    "stderr when it is a terminal.\n"
    "\n"
    LIVE_OPTIONS_HELP
    "      --no-check      upload every FILE as an image without the local check\n"
    "                      (the hypervisor still refuses a bad image; for tests)\n"
    "      --disk          upload every FILE as a disk, even one with the ELF magic\n"
    LIVE_EXIT_HELP;

static const char usage_start[] =
    "usage: mfctl start --control SOCKET IMAGE [--name NAME] [--class CLASS] [--count N]\n"
    "                   [--args \"...\"] [--net SWITCH]... [--timeout-ms MS]\n"
    "                   [--net:DEVICE=SWITCH]... [--block:DEVICE=FILE]...\n"
    "                   [--block-sector-size:DEVICE=N]...\n"
    "\n"
    "Starts instances of an image uploaded with 'mfctl load' and prints their ids\n"
    "('started: ID...') and how many wait for a free partition ('pending: N').\n"
    "\n"
    LIVE_OPTIONS_HELP
    "      --name NAME     the guest's name in the log and listings (default: the\n"
    "                      image name without .elf or .hvt); instances are NAME.0, ...\n"
    "      --class CLASS   the partition class (default: the smallest that fits)\n"
    "      --count N       instances (default 1)\n"
    "      --args \"...\"    the command line (at most 255 characters)\n"
    "      --net SWITCH    a virtio-net port on SWITCH, a switch mayfly.conf declares\n"
    "                      (repeat for up to 4 switches, each once)\n"
    "      --timeout-ms MS kill an instance still running after MS milliseconds\n"
    "  A Solo5 hvt image's devices (every one its manifest declares), as solo5-hvt\n"
    "  names them and as net:/block: on a guest line of mayfly.conf (up to 8):\n"
    "      --net:DEVICE=SWITCH   network device DEVICE as a port on SWITCH\n"
    "      --block:DEVICE=FILE   block device DEVICE backed by FILE, a disk uploaded\n"
    "                      with 'mfctl load' or one the boot brought; each instance\n"
    "                      gets its own copy, its writes vanish when it ends\n"
    "      --block-sector-size:DEVICE=N\n"
    "                      the sector size of block device DEVICE (a power of two,\n"
    "                      512 to 32768; default 512)\n"
    LIVE_EXIT_HELP;

static const char usage_stop[] =
    "usage: mfctl stop --control SOCKET ID...\n"
    "\n"
    "Stops guests by id (as 'mfctl ps' shows them); their partitions are scrubbed\n"
    "and freed. Prints 'stopped ID' for each.\n"
    "\n"
    LIVE_OPTIONS_HELP
    LIVE_EXIT_HELP;

static const char usage_ps[] =
    "usage: mfctl ps --control SOCKET [--json]\n"
    "\n"
    "Lists the guests alive: ID NAME IMAGE PERSONALITY CLASS STATE MEM UPTIME(ms)\n"
    "HYPERCALLS, and SERVICE when a summoned instance is listed (its summon line\n"
    "and slot, web/2; - for other guests). PERSONALITY is mayfly or solo5-hvt (-\n"
    "from a hypervisor that does not say). STATE is running, waiting (blocked in a\n"
    "hypercall) or pending (waiting for a free partition). With --json, an array\n"
    "of objects with the same fields (service and service_slot null for guests\n"
    "that are not summoned).\n"
    "\n"
    LIVE_OPTIONS_HELP
    LIVE_EXIT_HELP;

static const char usage_stats[] =
    "usage: mfctl stats --control SOCKET [ID] [--json]\n"
    "\n"
    "The hypervisor's counters (guests started, running, exited, failed, free\n"
    "partitions, network frames, control requests, image store), or with ID one\n"
    "guest's (uptime, hypercalls, preemptions, network frames): one 'key value'\n"
    "line each, or a JSON object with --json. Without ID, also one line per\n"
    "summoned service: address, instances running/max, times summoned, idled\n"
    "out, launch failures, first-reply latency (average, min..max, in TSC ticks\n"
    "and microseconds), frames held and dropped ('services' in the JSON).\n"
    "\n"
    LIVE_OPTIONS_HELP
    LIVE_EXIT_HELP;

static const char usage_logs[] =
    "usage: mfctl logs --control SOCKET ID [--bytes N]\n"
    "\n"
    "Prints the latest console output of guest ID (0: the hypervisor's own lines),\n"
    "as much as one reply holds (about 3.9 KiB).\n"
    "\n"
    LIVE_OPTIONS_HELP
    "      --bytes N       at most the last N bytes\n"
    LIVE_EXIT_HELP;

static const char usage_raw[] =
    "usage: mfctl raw --control SOCKET [--hello] [--key HEX | --key-file FILE]\n"
    "                 [--type T [--seq N] [--payload-hex HEX] [--version V] [--flags F]\n"
    "                  [--length L] [--bad-checksum] [--no-mac] [--bad-mac]\n"
    "                  [--truncate N] [--no-reply] [--replay]]...\n"
    "                 [--save FILE] [--replies N] [HEXFILE | -]\n"
    "\n"
    "A test helper: sends hand-made control frames (or the bytes of HEXFILE, hex\n"
    "text; '-' for stdin) and prints each reply on one line:\n"
    "  reply type=0xTT (NAME) seq=N length=N [mac=ok|bad|unchecked] status=S message=\"...\"\n"
    "\n"
    "  -C, --control SOCKET  the control socket (unix:PATH, or tcp://HOST:PORT for a\n"
    "                      'control net' control guest)\n"
    "      --hello         start with a real HELLO (seq 1); its nonce is used for MACs\n"
    "      --key HEX, --key-file FILE\n"
    "                      append a MAC to each frame (nonce: the HELLO reply's, or\n"
    "                      zeros without --hello)\n"
    "      --timeout SECONDS\n"
    "                      how long to wait for each reply (default 30)\n"
    "      --type T        starts a frame of type T (0-255, or 0xNN); the options\n"
    "                      below change the frame they follow:\n"
    "      --seq N         its seq (default: one more than the frame before; 2 after\n"
    "                      --hello, else 1)\n"
    "      --payload-hex HEX  its payload (white space and ':' ignored)\n"
    "      --version V, --flags F, --length L\n"
    "                      header fields as given (checksum and MAC follow them)\n"
    "      --bad-checksum  a wrong CRC-32\n"
    "      --no-mac, --bad-mac\n"
    "                      with a key: no MAC, or one with a bit flipped\n"
    "      --truncate N    send only its first N bytes\n"
    "      --no-reply      do not wait for a reply to it\n"
    "      --replay        send the frame before again, byte for byte\n"
    "      --save FILE     write every byte sent (after the HELLO) to FILE as hex\n"
    "      --replies N     replies to wait for after HEXFILE (default 1)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 every reply came with status 0; 1 some reply carried an error;\n"
    "2 usage error; 3 a reply did not come, or was unreadable.\n";

static const struct command commands[] = {
    { "image", cmd_image, "build a bootable GPT disk image (ESP with hypervisor, config, guests)",
      usage_image, 0 },
    { "run", cmd_run, "boot a disk image in QEMU + OVMF or in Bochs", usage_run, 0 },
    { "load", cmd_load, "upload guest images and disks to a running hypervisor", usage_load,
      0 },
    { "start", cmd_start, "start instances of a stored image", usage_start, 0 },
    { "stop", cmd_stop, "stop guests", usage_stop, 0 },
    { "ps", cmd_ps, "list the guests alive", usage_ps, 0 },
    { "stats", cmd_stats, "hypervisor and guest counters", usage_stats, 0 },
    { "logs", cmd_logs, "a guest's latest console output", usage_logs, 0 },
    { "raw", cmd_raw, "send hand-made control frames (a test helper)", usage_raw, 1 },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

void usage_print(const char *command, FILE *f)
{
    const struct command *c = command ? command_find(command) : NULL;

    if (c) {
        fputs(c->usage, f);
        return;
    }
    fputs("usage: mfctl COMMAND [OPTIONS] [ARGS]\n"
          "       mfctl COMMAND --help\n"
          "\n"
          "Mayfly's host control tool.\n"
          "\n"
          "commands:\n", f);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (!commands[i].hidden)
            fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
    fputs("\nThe live commands (load ... logs) talk to a running hypervisor over its\n"
          "control channel: --control SOCKET, the socket 'mfctl run --control' serves,\n"
          "or --control tcp://HOST:PORT, the control guest of a 'control net' line.\n"
          "\nExample:\n"
          "  mfctl image -c mayfly.conf -o mayfly.img build/guests/hello.elf\n"
          "  mfctl run mayfly.img --bochs --timeout 120\n"
          "  mfctl run mayfly.img --bochs --control /tmp/mayfly.sock &\n"
          "  mfctl load --control /tmp/mayfly.sock build/guests/hello.elf\n"
          "  mfctl start --control /tmp/mayfly.sock hello.elf --args \"hi\"\n"
          "  mfctl ps --control /tmp/mayfly.sock\n"
          "\nSee docs/mfctl.md.\n", f);
}

int usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;

    fputs("mfctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    if (command && command_find(command)) {
        /* The synopsis (up to the first blank line) and where the rest is. */
        const char *usage = command_find(command)->usage, *end = strstr(usage, "\n\n");
        fprintf(stderr, "%.*s\nRun 'mfctl %s --help' for the options.\n",
                end ? (int)(end - usage + 1) : (int)strlen(usage), usage, command);
    } else {
        fputc('\n', stderr);
        usage_print(NULL, stderr);
    }
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const struct command *c;

    if (argc < 2)
        return usage_error(NULL, "no command given");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        if (argc > 2 && !command_find(argv[2]))
            return usage_error(NULL, "unknown command '%s'", argv[2]);
        usage_print(argc > 2 ? argv[2] : NULL, stdout);
        return 0;
    }
    c = command_find(argv[1]);
    if (!c) {
        if (argv[1][0] == '-')
            return usage_error(NULL, "unknown option '%s' (options follow the command)",
                               argv[1]);
        return usage_error(NULL, "unknown command '%s'", argv[1]);
    }
    return c->run(argc - 1, argv + 1);
}

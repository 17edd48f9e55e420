/*
 * mfctl: builds Mayfly boot images, boots them in emulators and (later)
 * drives a running hypervisor over its control channel. One table of
 * subcommands; adding one is adding a row and its cmd_<name>().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mfctl.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;            /* one line in the overview */
    const char *usage;              /* `mfctl <name> --help` */
};

static int cmd_later(int argc, char **argv);

static const char usage_image[] =
    "usage: mfctl image -c CONFIG -o OUTPUT [--efi FILE] [--size MIB] [IMAGE...]\n"
    "\n"
    "Builds a GPT disk image, ready to write to a USB stick or to boot with\n"
    "'mfctl run': one EFI system partition (FAT32 from 64 MiB, at 1 MiB) holding\n"
    "EFI/BOOT/BOOTX64.EFI, mayfly/mayfly.conf and every guest image the config\n"
    "names. Nothing is written unless the config passes the hypervisor's own\n"
    "parser and every image its own ELF checks.\n"
    "\n"
    "  -c, --config FILE   mayfly.conf to put on the image (required)\n"
    "  -o, --output FILE   the disk image to write (required; replaced if it exists)\n"
    "      --efi FILE      UEFI application (default: BOOTX64.EFI next to mfctl)\n"
    "      --size MIB      image size in MiB (default 64, or more if the files need\n"
    "                      it; FAT32 from 64 MiB, FAT12/16 below)\n"
    "  -h, --help          this text\n"
    "  IMAGE...            guest images; the config's image=NAME is looked up among\n"
    "                      these by base name, then next to the config file\n";

static const char usage_run[] =
    "usage: mfctl run IMAGE [--qemu | --bochs] [--control SOCKET] [--timeout SECONDS]\n"
    "                 [--memory MIB] [--elf FILE] [--cpu MODEL] [--ovmf FILE]\n"
    "\n"
    "Boots a disk image built by 'mfctl image' in an emulator. The hypervisor's\n"
    "serial console (COM1) is copied to stdout; mfctl exits with the status the\n"
    "hypervisor powered off with (0: all is well).\n"
    "\n"
    "      --qemu          QEMU + OVMF, booting the image's UEFI entry (default);\n"
    "                      KVM is used when /dev/kvm works and the CPU has VT-x,\n"
    "                      otherwise TCG, where the hypervisor stops with\n"
    "                      'VT-x not available' (status 5)\n"
    "      --bochs         Bochs 2.7 (emulated VT-x with EPT), booting the Multiboot2\n"
    "                      build through GRUB with the files of the image's mayfly/\n"
    "      --control SOCKET\n"
    "                      COM2, the control channel, as a Unix socket server at\n"
    "                      SOCKET (one client at a time; output is dropped while\n"
    "                      none is connected)\n"
    "      --timeout SECONDS\n"
    "                      stop the emulator after SECONDS and exit 124\n"
    "      --memory MIB    machine memory (default 512)\n"
    "      --elf FILE      --bochs: the Multiboot2 hypervisor (default: mayfly.elf\n"
    "                      next to mfctl)\n"
    "      --cpu MODEL     --bochs: Bochs CPU model (default tigerlake)\n"
    "      --ovmf FILE     --qemu: the firmware (default /usr/share/ovmf/OVMF.fd;\n"
    "                      each run boots a private copy)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: the hypervisor's power-off status; 124 on --timeout; 125 when\n"
    "the emulator failed or stopped without a power-off; 2 on a usage error.\n";

static const char usage_later[] =
    "not yet implemented: the live commands talk to a running hypervisor over its\n"
    "control channel, which comes in a later version of mfctl.\n";

static const struct command commands[] = {
    { "image", cmd_image, "build a bootable GPT disk image (ESP with hypervisor, config, guests)",
      usage_image },
    { "run", cmd_run, "boot a disk image in QEMU + OVMF or in Bochs", usage_run },
    { "load", cmd_later, "upload a guest image to a running hypervisor (not yet implemented)",
      usage_later },
    { "start", cmd_later, "start a guest (not yet implemented)", usage_later },
    { "stop", cmd_later, "stop a guest (not yet implemented)", usage_later },
    { "ps", cmd_later, "list guests (not yet implemented)", usage_later },
    { "stats", cmd_later, "hypervisor and guest counters (not yet implemented)", usage_later },
    { "logs", cmd_later, "a guest's console output (not yet implemented)", usage_later },
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
        fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
    fputs("\nExample:\n"
          "  mfctl image -c mayfly.conf -o mayfly.img build/guests/hello.elf\n"
          "  mfctl run mayfly.img --bochs --timeout 120\n"
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

static int cmd_later(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "mfctl: '%s' is not yet implemented: the live commands (load, start, "
            "stop, ps, stats, logs) come with the control channel in a later version\n",
            argv[0]);
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

/* Unit tests of hv/config.c: the mayfly.conf grammar, sizes, and the
 * line number and wording of every error the parser reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static struct config cfg;
static struct config_error err;

static int parse(const char *text)
{
    return config_parse(text, strlen(text), &cfg, &err);
}

/* The text must fail on line `line` with a message containing both words. */
static void check_error(const char *text, uint32_t line, const char *word1, const char *word2)
{
    if (parse(text) != -1)
        fail_msg("parsed, expected an error on line %u:\n%s", line, text);
    if (err.line != line)
        fail_msg("error on line %u, expected %u: %s", err.line, line, err.message);
    if (!strstr(err.message, word1) || (word2 && !strstr(err.message, word2)))
        fail_msg("message '%s' lacks '%s'/'%s'", err.message, word1, word2 ? word2 : "");
}

static void check_ok(const char *text)
{
    if (parse(text) != 0)
        fail_msg("line %u: %s\n%s", err.line, err.message, text);
}

static uint64_t size_of(const char *s)
{
    uint64_t v = 0xdeadbeef;
    if (config_parse_size(s, &v) != 0)
        fail_msg("config_parse_size(\"%s\") failed", s);
    return v;
}

static void test_full_example(void **state)
{
    (void)state;
    check_ok("# sample\n"
             "partition small 2M x 16\n"
             "partition big 1G x 2\n"
             "\n"
             "guest web image=web.elf class=small count=4 args=\"console=ttyS0 quiet\"\n"
             "guest db image=db.elf\n"
             "poweroff when-idle\n");
    assert_int_equal(cfg.class_count, 2);
    assert_string_equal(cfg.classes[0].name, "small");
    assert_int_equal(cfg.classes[0].size, 2097152);
    assert_int_equal(cfg.classes[0].count, 16);
    assert_string_equal(cfg.classes[1].name, "big");
    assert_int_equal(cfg.classes[1].size, 1073741824);
    assert_int_equal(cfg.classes[1].count, 2);
    assert_int_equal(cfg.guest_count, 2);
    assert_string_equal(cfg.guests[0].name, "web");
    assert_string_equal(cfg.guests[0].image, "web.elf");
    assert_string_equal(cfg.guests[0].class_name, "small");
    assert_int_equal(cfg.guests[0].count, 4);
    assert_string_equal(cfg.guests[0].args, "console=ttyS0 quiet");
    assert_int_equal(cfg.guests[0].line, 5);
    assert_string_equal(cfg.guests[1].name, "db");
    assert_string_equal(cfg.guests[1].class_name, "");
    assert_int_equal(cfg.guests[1].count, 1);
    assert_string_equal(cfg.guests[1].args, "");
    assert_int_equal(cfg.guests[1].line, 6);
    assert_int_equal(cfg.poweroff_when_idle, 1);
    assert_int_equal(config_partition_total(&cfg), 18);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.message, "");
}

static void test_size_suffixes(void **state)
{
    (void)state;
    assert_int_equal(size_of("0"), 0);
    assert_int_equal(size_of("4096"), 4096);
    assert_int_equal(size_of("4K"), 4096);
    assert_int_equal(size_of("4k"), 4096);
    assert_int_equal(size_of("3M"), 3145728);
    assert_int_equal(size_of("3m"), 3145728);
    assert_int_equal(size_of("2G"), 2147483648ULL);
    assert_int_equal(size_of("2g"), 2147483648ULL);
    assert_int_equal(size_of("1KiB"), 1024);
    assert_int_equal(size_of("5MiB"), 5242880);
    assert_int_equal(size_of("1GiB"), 1073741824);
    assert_int_equal(size_of("007M"), 7340032);
}

static void test_size_malformed(void **state)
{
    static const char *const bad[] = {
        "", "M", "K1", "12X", "1.5G", "-1", "+1", " 1", "1 ", "1KB", "1Ki", "1iB",
        "1MM", "0x10", "1T", "1GiBx",
    };
    uint64_t v = 77;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (config_parse_size(bad[i], &v) != -1)
            fail_msg("config_parse_size(\"%s\") accepted", bad[i]);
    assert_int_equal(v, 77);               /* untouched on failure */
}

static void test_size_overflow(void **state)
{
    uint64_t v;
    (void)state;
    assert_int_equal(config_parse_size("17179869184G", &v), -1);      /* 2^64 */
    assert_int_equal(config_parse_size("17592186044416M", &v), -1);    /* 2^64 */
    assert_int_equal(config_parse_size("18446744073709551616", &v), -1);
    assert_int_equal(config_parse_size("99999999999999999999", &v), -1);
    assert_int_equal(size_of("17179869183G"), 0xffffffffc0000000ULL);
    assert_int_equal(size_of("18014398509481983K"), 0xfffffffffffffc00ULL);
    assert_int_equal(size_of("18446744073709551609"), 0xfffffffffffffff9ULL);
}

/* Every value that fits in 64 bits is "not too large". */
static void test_size_largest_values(void **state)
{
    (void)state;
    assert_int_equal(size_of("18446744073709551610"), 0xfffffffffffffffaULL);
    assert_int_equal(size_of("18446744073709551615"), UINT64_MAX);
}

static void test_layout_comments_crlf_tabs(void **state)
{
    (void)state;
    check_ok("   # indented comment\r\n"
             "\r\n"
             "\tpartition\tsmall  2M\tx 3   # trailing comment\r\n"
             "guest a image=a.elf # class=nope is commented out\r\n"
             "partition big 4M x 1");               /* no final newline */
    assert_int_equal(cfg.class_count, 2);
    assert_string_equal(cfg.classes[0].name, "small");
    assert_int_equal(cfg.classes[0].count, 3);
    assert_string_equal(cfg.classes[1].name, "big");
    assert_int_equal(cfg.classes[1].size, 4194304);
    assert_int_equal(cfg.guest_count, 1);
    assert_string_equal(cfg.guests[0].class_name, "");
    assert_int_equal(cfg.guests[0].line, 4);
}

static void test_poweroff(void **state)
{
    (void)state;
    check_ok("partition a 2M x 1\n");
    assert_int_equal(cfg.poweroff_when_idle, 0);
    check_ok("poweroff when-idle\npartition a 2M x 1\n");
    assert_int_equal(cfg.poweroff_when_idle, 1);
    assert_int_equal(cfg.poweroff_line, 1);
    check_error("partition a 2M x 1\npoweroff soon\n", 2, "poweroff when-idle", NULL);
    check_error("partition a 2M x 1\n\n\npoweroff\n", 4, "poweroff never", NULL);
    check_error("poweroff never now\n", 1, "poweroff", NULL);
}

/* cpus <N|all>: the most CPUs to bring up; none given means all. */
static void test_cpus(void **state)
{
    (void)state;
    check_ok("partition a 2M x 1\n");
    assert_int_equal(cfg.max_cpus, 0);
    assert_int_equal(cfg.cpus_line, 0);
    check_ok("partition a 2M x 1\ncpus 2\n");
    assert_int_equal(cfg.max_cpus, 2);
    assert_int_equal(cfg.cpus_line, 2);
    check_ok("cpus all\npartition a 2M x 1\n");
    assert_int_equal(cfg.max_cpus, 0);
    assert_int_equal(cfg.cpus_line, 1);
    check_ok("cpus 1 # the boot CPU only\npartition a 2M x 1\n");
    assert_int_equal(cfg.max_cpus, 1);
    check_ok("cpus 1024\npartition a 2M x 1\n");
    assert_int_equal(cfg.max_cpus, CONFIG_CPUS_MAX);
    check_error("partition a 2M x 1\ncpus 0\n", 2, "cpus all", "1 to 1024");
    check_error("partition a 2M x 1\ncpus 1025\n", 2, "cpus <N>", NULL);
    check_error("cpus\npartition a 2M x 1\n", 1, "cpus all", NULL);
    check_error("cpus 2 4\npartition a 2M x 1\n", 1, "cpus all", NULL);
    check_error("cpus 2K\npartition a 2M x 1\n", 1, "cpus <N>", NULL);
    check_error("cpus -1\npartition a 2M x 1\n", 1, "cpus <N>", NULL);
    check_error("cpus ALL\npartition a 2M x 1\n", 1, "cpus all", NULL);
    check_error("cpus 99999999999999999999999\npartition a 2M x 1\n", 1, "cpus <N>", NULL);
    check_error("cpus 2\npartition a 2M x 1\ncpus all\n", 3, "a second cpus line",
                "the first is line 1");
}

static void test_guest_values(void **state)
{
    (void)state;
    check_ok("guest q image=\"vm.elf\" args=\"a#b  c\" class=\"big\"\n"
             "guest e image=e.elf args=\"\" count=4096\n"
             "partition big 2M x 1\n");
    assert_string_equal(cfg.guests[0].image, "vm.elf");
    assert_string_equal(cfg.guests[0].args, "a#b  c");
    assert_string_equal(cfg.guests[0].class_name, "big");
    assert_string_equal(cfg.guests[1].args, "");
    assert_int_equal(cfg.guests[1].count, 4096);
}

static void test_guest_timeout(void **state)
{
    (void)state;
    check_ok("partition a 2M x 1\n"
             "guest g image=g.elf timeout=500\n"
             "guest h image=h.elf\n"
             "guest y image=y.elf timeout=31536000000\n");   /* one year */
    assert_int_equal(cfg.guests[0].timeout_ms, 500);
    assert_int_equal(cfg.guests[1].timeout_ms, 0);           /* no limit */
    assert_int_equal(cfg.guests[2].timeout_ms, 31536000000ULL);
    check_error("partition a 2M x 1\nguest g image=g.elf timeout=0\n", 2, "bad timeout", "'0'");
    check_error("guest g image=g.elf timeout=5K\n", 1, "bad timeout", "'5K'");
    check_error("guest g image=g.elf timeout=\n", 1, "bad timeout", NULL);
    check_error("guest g image=g.elf timeout=-1\n", 1, "bad timeout", NULL);
    check_error("guest g image=g.elf timeout=31536000001\n", 1, "bad timeout", NULL);
}

/* cpu=N pins a line: stored as N + 1 (0 is "least loaded"). */
static void test_guest_cpu(void **state)
{
    (void)state;
    check_ok("partition a 2M x 1\n"
             "guest g image=g.elf cpu=0\n"
             "guest h image=h.elf\n"
             "guest p image=p.elf cpu=63\n");
    assert_int_equal(cfg.guests[0].cpu, 1);
    assert_int_equal(cfg.guests[1].cpu, 0);
    assert_int_equal(cfg.guests[2].cpu, 64);
    check_error("guest g image=g.elf cpu=64\n", 1, "bad cpu", "0 to 63");
    check_error("guest g image=g.elf cpu=1K\n", 1, "bad cpu", "'1K'");
    check_error("guest g image=g.elf cpu=\n", 1, "bad cpu", NULL);
    check_error("guest g image=g.elf cpu=-1\n", 1, "bad cpu", NULL);
    check_error("guest g image=g.elf cpu=1 cpu=2\n", 1, "'cpu' is given twice", NULL);
}

/* uplink <switch> [pci=BB:DD.F] [mac=...]; mac= on a guest line. */
static void test_uplink_and_mac(void **state)
{
    (void)state;
    check_ok("partition a 2M x 1\n"
             "uplink lan0\n"
             "uplink wan pci=00:1f.3 mac=52:54:00:AB:cd:01\n"
             "guest g image=g.elf net=lan0 mac=02:00:00:00:00:07\n");
    assert_int_equal(cfg.uplink_count, 2);
    assert_string_equal(cfg.uplinks[0].sw, "lan0");
    assert_int_equal(cfg.uplinks[0].has_pci, 0);
    assert_int_equal(cfg.uplinks[0].has_mac, 0);
    assert_int_equal(cfg.uplinks[1].has_pci, 1);
    assert_int_equal(cfg.uplinks[1].bus, 0);
    assert_int_equal(cfg.uplinks[1].dev, 0x1f);
    assert_int_equal(cfg.uplinks[1].fn, 3);
    assert_int_equal(cfg.uplinks[1].mac[3], 0xab);
    assert_int_equal(cfg.uplinks[1].mac[5], 0x01);
    assert_int_equal(config_find_switch(&cfg, "wan"), 1);   /* the line declares it */
    assert_int_equal(cfg.guests[0].has_mac, 1);
    assert_int_equal(cfg.guests[0].mac[5], 7);
    check_error("partition a 2M x 1\nuplink lan0\nuplink lan0\n", 3, "has an uplink already",
                "line 2");
    check_error("uplink\n", 1, "expected 'uplink <switch>", NULL);
    check_error("uplink lan0 pci=0:3.0\n", 1, "bad pci", NULL);
    check_error("uplink lan0 pci=00:20.0\n", 1, "bad pci", NULL);
    check_error("uplink lan0 pci=00:03.8\n", 1, "bad pci", NULL);
    check_error("uplink lan0 mac=01:00:00:00:00:01\n", 1, "bad mac", "group");
    check_error("uplink lan0 mac=00:00:00:00:00:00\n", 1, "bad mac", NULL);
    check_error("uplink lan0 mac=52:54:00:12:34\n", 1, "bad mac", NULL);
    check_error("uplink lan0 speed=10\n", 1, "unexpected 'speed=10'", NULL);
    check_error("uplink lan0 pci=00:03.0 pci=00:04.0\n", 1, "unexpected", NULL);
    check_error("guest g image=g.elf mac=52:54:00:12:34:5g\n", 1, "bad mac", NULL);
    check_error("guest g image=g.elf count=2 mac=52:54:00:12:34:56\n", 1, "needs count=1",
                NULL);
}

static void test_summon(void **state)
{
    (void)state;
    check_ok("partition a 2M x 4\n"
             "switch lan\n"
             "summon web image=httpd.elf ip=10.0.0.9 port=80 idle=250 max=4 args=\"port=80\"\n"
             "summon echo image=e.hvt ip=10.0.0.10 net:service=lan mac=02:00:00:00:00:09\n");
    assert_int_equal(cfg.summon_count, 2);
    assert_string_equal(cfg.summons[0].guest.name, "web");
    assert_string_equal(cfg.summons[0].guest.image, "httpd.elf");
    assert_int_equal(cfg.summons[0].ip, 0x0a000009);
    assert_int_equal(cfg.summons[0].port, 80);
    assert_int_equal(cfg.summons[0].idle_ms, 250);
    assert_int_equal(cfg.summons[0].max, 4);
    assert_int_equal(cfg.summons[0].guest.count, 1);
    assert_string_equal(cfg.summons[0].guest.args, "port=80");
    /* No net=: the one switch. No mac=: the service's own, by its line. */
    assert_int_equal(cfg.summons[0].guest.net_count, 1);
    assert_string_equal(config_summon_switch(&cfg.summons[0].guest), "lan");
    assert_int_equal(cfg.summons[0].guest.has_mac, 1);
    assert_int_equal(cfg.summons[0].guest.mac[0], 0x02);
    assert_int_equal(cfg.summons[0].guest.mac[5], 1);
    /* A Solo5 device mapping is its one port; the defaults. */
    assert_int_equal(config_summon_nets(&cfg.summons[1].guest), 1);
    assert_string_equal(config_summon_switch(&cfg.summons[1].guest), "lan");
    assert_int_equal(cfg.summons[1].guest.mac[5], 9);
    assert_int_equal(cfg.summons[1].port, 0);
    assert_int_equal(cfg.summons[1].idle_ms, SUMMON_IDLE_DEFAULT_MS);
    assert_int_equal(cfg.summons[1].max, 1);

    check_error("switch lan\nsummon web image=w.elf\n", 2, "expected 'summon <name>", NULL);
    check_error("switch lan\nsummon web image=w.elf port=80\n", 2, "needs ip=", NULL);
    check_error("switch lan\nsummon web ip=10.0.0.9 port=80\n", 2, "needs image=", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.256\n", 2, "bad ip", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0\n", 2, "bad ip", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=224.0.0.1\n", 2, "bad ip", "unicast");
    check_error("switch lan\nsummon web image=w.elf ip=0.0.0.0\n", 2, "bad ip", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=127.0.0.1\n", 2, "bad ip", "127.x");
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 port=0\n", 2, "bad port", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 port=65536\n", 2, "bad port",
                NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 max=9\n", 2, "bad max",
                "1 to 8");
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 max=0\n", 2, "bad max", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 idle=0\n", 2, "bad idle", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 idle=x\n", 2, "bad idle", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 count=2\n", 2, "max=N", NULL);
    check_error("switch lan\nsummon web image=w.elf ip=10.0.0.9 ip=10.0.0.8\n", 2,
                "given twice", NULL);
    check_error("summon web image=w.elf ip=10.0.0.9 net=a,b\n", 1, "one port", NULL);
    check_error("switch a\nswitch b\npartition p 2M x 1\nsummon web image=w.elf ip=10.0.0.9\n",
                4, "needs net=", NULL);
    check_error("partition p 2M x 1\nswitch lan\nguest web image=g.elf\n"
                "summon web image=w.elf ip=10.0.0.9\n", 4, "guest line's name", NULL);
    check_error("partition p 2M x 1\nswitch lan\nsummon web image=w.elf ip=10.0.0.9\n"
                "summon web image=w.elf ip=10.0.0.8\n", 4, "declared twice", NULL);
    check_error("partition p 2M x 1\nswitch lan\nsummon a image=w.elf ip=10.0.0.9\n"
                "summon b image=w.elf ip=10.0.0.9\n", 4, "address of service 'a'", NULL);
    check_error("partition p 2M x 1\nswitch lan\nsummon a image=w.elf ip=10.0.0.9 class=big\n",
                3, "names class 'big'", NULL);
}

static void test_parse_ipv4(void **state)
{
    uint32_t ip = 0;

    (void)state;
    assert_int_equal(config_parse_ipv4("192.168.1.200", &ip), 0);
    assert_int_equal(ip, 0xc0a801c8);
    assert_int_equal(config_parse_ipv4("0.0.0.0", &ip), 0);
    assert_int_equal(ip, 0);
    assert_int_equal(config_parse_ipv4("1.2.3", &ip), -1);
    assert_int_equal(config_parse_ipv4("1.2.3.4.5", &ip), -1);
    assert_int_equal(config_parse_ipv4("1.2.3.4 ", &ip), -1);
    assert_int_equal(config_parse_ipv4("1..3.4", &ip), -1);
    assert_int_equal(config_parse_ipv4("1.2.3.0004", &ip), -1);
    assert_int_equal(config_parse_ipv4("256.1.1.1", &ip), -1);
    assert_int_equal(config_parse_ipv4("", &ip), -1);
}

static void test_unknown_keyword(void **state)
{
    (void)state;
    check_error("partition a 2M x 1\n\nvm foo\n", 3, "unknown keyword", "'vm'");
    check_error("Partition a 2M x 1\n", 1, "unknown keyword", "Partition");
}

static void test_partition_shape(void **state)
{
    (void)state;
    check_error("partition a 2M 1\n", 1, "expected 'partition <class> <size> x <count>'", NULL);
    check_error("# c\npartition a 2M y 1\n", 2, "expected 'partition", NULL);
    check_error("partition a 2M x 1 extra\n", 1, "expected 'partition", NULL);
    check_error("partition\n", 1, "expected 'partition", NULL);
}

static void test_class_names(void **state)
{
    char text[128];
    (void)state;
    check_error("partition a/b 2M x 1\n", 1, "bad class name", "'a/b'");
    check_error("partition \"a\" 2M x 1\n", 1, "bad class name", NULL);
    /* 31 characters fit CONFIG_NAME_MAX (32 with the NUL), 32 do not. */
    snprintf(text, sizeof(text), "partition %s 2M x 1\n", "abcdefghijklmnopqrstuvwxyz_-.12");
    check_ok(text);
    assert_string_equal(cfg.classes[0].name, "abcdefghijklmnopqrstuvwxyz_-.12");
    snprintf(text, sizeof(text), "\npartition %s 2M x 1\n", "abcdefghijklmnopqrstuvwxyz_-.123");
    check_error(text, 2, "bad class name", "at most 31");
    check_error("partition a 2M x 1\npartition b 2M x 1\npartition a 4M x 1\n", 3,
                "class 'a' is declared twice", "first on line 1");
}

static void test_partition_sizes(void **state)
{
    (void)state;
    check_error("partition a 2X x 1\n", 1, "bad size", "'2X'");
    check_error("partition a 0M x 1\n", 1, "bad size", "'0M'");
    check_error("partition a 3M x 1\n", 1, "'3M'", "not a multiple of 2 MiB");
    check_error("partition a 2049K x 1\n", 1, "not a multiple of 2 MiB", NULL);
    check_error("partition a 1M x 1\n", 1, "not a multiple of 2 MiB", NULL);
    check_ok("partition a 2048K x 1\npartition b 6MiB x 1\npartition c 1G x 1\n");
    assert_int_equal(cfg.classes[0].size, 2097152);
    assert_int_equal(cfg.classes[1].size, 6291456);
    assert_int_equal(cfg.classes[2].size, 1073741824);
}

static void test_partition_counts(void **state)
{
    (void)state;
    check_error("partition a 2M x 0\n", 1, "bad count", "'0'");
    check_error("partition a 2M x 4097\n", 1, "bad count", "1 to 4096");
    check_error("partition a 2M x 2M\n", 1, "bad count", "'2M'");
    check_error("partition a 2M x abc\n", 1, "bad count", NULL);
    check_error("partition a 2M x -1\n", 1, "bad count", NULL);
    check_ok("partition a 2M x 4096\n");
    assert_int_equal(config_partition_total(&cfg), 4096);
    check_ok("partition a 2M x 4000\npartition b 4M x 96\n");
    assert_int_equal(config_partition_total(&cfg), 4096);
    check_error("partition a 2M x 4000\npartition b 4M x 97\n", 2,
                "more than 4096 partitions", NULL);
}

static void test_too_many_classes(void **state)
{
    char text[1024];
    size_t n = 0;
    (void)state;
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "partition c%d 2M x 1\n", i);
    check_ok(text);
    assert_int_equal(cfg.class_count, 16);
    assert_string_equal(cfg.classes[15].name, "c15");
    snprintf(text + n, sizeof(text) - n, "partition c16 2M x 1\n");
    check_error(text, 17, "too many partition classes", "16");
}

static void test_guest_errors(void **state)
{
    (void)state;
    check_error("partition a 2M x 1\nguest g\n", 2, "expected 'guest <name> image=<file>", NULL);
    check_error("guest g$ image=g.elf\n", 1, "bad guest name", "'g$'");
    check_error("guest g class=a count=2\n", 1, "guest 'g' needs image=<file>", NULL);
    check_error("guest g image=dir/g.elf\n", 1, "needs image", NULL);
    check_error("guest g image=\"\"\n", 1, "needs image", NULL);
    check_error("guest g image=g.elf color=red\n", 1, "unknown guest option 'color'", NULL);
    check_error("guest g image=g.elf fast\n", 1, "expected key=value", "'fast'");
    check_error("guest g image=g.elf count=0\n", 1, "bad count", "'0'");
    check_error("guest g image=g.elf count=4097\n", 1, "bad count", NULL);
    check_error("guest g image=g.elf count=\n", 1, "bad count", NULL);
    check_error("partition a 2M x 1\n\nguest g image=g.elf\nguest h image=h.elf\nguest g image=x.elf\n",
                5, "guest 'g' is declared twice", "first on line 3");
}

static void test_guest_unknown_class(void **state)
{
    (void)state;
    /* Reported on the guest's line, after the whole file was read. */
    check_error("partition small 2M x 1\nguest g image=g.elf class=huge\npartition big 4M x 1\n",
                2, "'huge'", "no partition line");
    /* A class declared after the guest that names it is fine. */
    check_ok("guest g image=g.elf class=late\npartition late 2M x 1\n");
    assert_int_equal(config_find_class(&cfg, cfg.guests[0].class_name), 0);
}

static void test_too_many_guests(void **state)
{
    static char text[4096];
    size_t n;
    (void)state;
    n = (size_t)snprintf(text, sizeof(text), "partition a 2M x 1\n");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "guest g%d image=g.elf\n", i);
    check_ok(text);
    assert_int_equal(cfg.guest_count, 64);
    assert_int_equal(cfg.guests[63].line, 65);
    snprintf(text + n, sizeof(text) - n, "guest g64 image=g.elf\n");
    check_error(text, 66, "too many guest lines", "64");
}

/* "partition a 2M x 1" and a guest line of n words. */
static const char *words_line(int n)
{
    static char text[1024];
    int len = snprintf(text, sizeof(text), "partition a 2M x 1\nguest g image=g.elf");

    for (int i = 3; i < n; i++)
        len += snprintf(text + len, sizeof(text) - (size_t)len, " count=1");
    snprintf(text + len, sizeof(text) - (size_t)len, "\n");
    return text;
}

static void test_quotes_and_words(void **state)
{
    (void)state;
    check_error("partition a 2M x 1\nguest g image=g.elf args=\"oops\n", 2,
                "unterminated quote", NULL);
    /* 32 words are split (and then refused for what they say), the 33rd is not. */
    check_error(words_line(32), 2, "guest option 'count' is given twice", NULL);
    check_error(words_line(33), 2, "too many words", "32");
}

static void test_value_lengths(void **state)
{
    static char text[1024];
    char args[300];
    (void)state;
    memset(args, 'a', sizeof(args));
    args[255] = '\0';                           /* 255 characters fit */
    snprintf(text, sizeof(text), "partition a 2M x 1\nguest g image=g.elf args=\"%s\"\n", args);
    check_ok(text);
    assert_int_equal(strlen(cfg.guests[0].args), 255);
    args[255] = 'a';
    args[256] = '\0';
    snprintf(text, sizeof(text), "partition a 2M x 1\nguest g image=g.elf args=\"%s\"\n", args);
    check_error(text, 2, "value of 'args' is too long", "255");
    args[64] = '\0';
    snprintf(text, sizeof(text), "partition a 2M x 1\n#\nguest g image=%s\n", args);
    check_error(text, 3, "value of 'image' is too long", "63");
    snprintf(text, sizeof(text), "guest g image=g.elf class=%s\n", "c23456789012345678901234567890123");
    check_error(text, 1, "value of 'class' is too long", NULL);
}

static void test_line_length(void **state)
{
    static char text[1200];
    (void)state;
    /* A 511-character line (CONFIG_LINE_MAX - 1) is fine, 512 is not. */
    strcpy(text, "partition a 2M x 1\n#");
    memset(text + strlen(text), 'c', 510);
    strcat(text, "\n");
    check_ok(text);
    strcpy(text, "partition a 2M x 1\n#");
    memset(text + strlen(text), 'c', 511);
    strcat(text, "\npartition b 2M x 1\n");
    check_error(text, 2, "line too long", "511");
}

static void test_nul_byte(void **state)
{
    static const char text[] = "partition a 2M x 1\n\npart\0ition b 2M x 1\n";
    (void)state;
    assert_int_equal(config_parse(text, sizeof(text) - 1, &cfg, &err), -1);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.message, "NUL"));
    /* len bounds the text: what follows it is never read. */
    assert_int_equal(config_parse(text, 19, &cfg, &err), 0);
    assert_int_equal(cfg.class_count, 1);
}

static void test_no_classes(void **state)
{
    (void)state;
    check_error("", 0, "no partition classes", NULL);
    check_error("# nothing\n\n", 0, "no partition classes", NULL);
    check_error("guest g image=g.elf\npoweroff never\n", 0, "no partition classes", NULL);
}

static void test_find_class_and_total(void **state)
{
    (void)state;
    check_ok("partition a 2M x 3\npartition bb 4M x 5\npartition c 8M x 7\n");
    assert_int_equal(config_find_class(&cfg, "a"), 0);
    assert_int_equal(config_find_class(&cfg, "bb"), 1);
    assert_int_equal(config_find_class(&cfg, "c"), 2);
    assert_int_equal(config_find_class(&cfg, "b"), -1);
    assert_int_equal(config_find_class(&cfg, ""), -1);
    assert_int_equal(config_find_class(&cfg, "C"), -1);
    assert_int_equal(config_partition_total(&cfg), 15);
}

static void test_reparse_resets(void **state)
{
    (void)state;
    check_error("partition a 2M x 1\nbogus\n", 2, "unknown keyword", NULL);
    check_ok("partition z 4M x 2\n");
    assert_int_equal(err.line, 0);
    assert_string_equal(err.message, "");
    assert_int_equal(cfg.class_count, 1);
    assert_int_equal(cfg.guest_count, 0);
    assert_string_equal(cfg.classes[0].name, "z");
}

static const char key_a[] = "00112233445566778899aabbccddeeff";
static const char key_b[] = "ffeeddccbbaa99887766554433221100";

static void test_control_values(void **state)
{
    char text[256];
    (void)state;
    check_ok("partition a 2M x 1\n");
    assert_int_equal(cfg.control, 0);
    assert_int_equal(cfg.control_line, 0);
    snprintf(text, sizeof(text), "partition a 2M x 1\ncontrol com2 store=4M key=%s\n", key_a);
    check_ok(text);
    assert_int_equal(cfg.control, 1);
    assert_int_equal(cfg.control_line, 2);
    assert_int_equal(cfg.store_size, 4 * 1024 * 1024);
    assert_int_equal(cfg.key_len, 16);
    assert_int_equal(cfg.key[0], 0x00);
    assert_int_equal(cfg.key[15], 0xff);
    check_ok("partition a 2M x 1\ncontrol com2\n");
    assert_int_equal(cfg.store_size, STORE_DEFAULT);
    assert_int_equal(cfg.key_len, 0);
}

/* Anything said twice is refused on the second line, naming the first:
 * before, a second control line reset store= (and kept the key), and the
 * last key=, poweroff or guest option silently won. */
static void test_duplicates_refused(void **state)
{
    char text[512];
    (void)state;
    snprintf(text, sizeof(text), "partition a 2M x 1\ncontrol com2 store=64M key=%s\n"
             "# later\ncontrol com2\n", key_a);
    check_error(text, 4, "a second control line", "the first is line 2");
    snprintf(text, sizeof(text), "control com2 key=%s\npartition a 2M x 1\ncontrol com2 key=%s\n",
             key_a, key_b);
    check_error(text, 3, "a second control line", "the first is line 1");
    snprintf(text, sizeof(text), "partition a 2M x 1\ncontrol com2 key=%s key=%s\n", key_a, key_b);
    check_error(text, 2, "control option 'key' is given twice", NULL);
    check_error("partition a 2M x 1\ncontrol com2 store=4M store=8M\n", 2,
                "control option 'store' is given twice", NULL);
    check_error("partition a 2M x 1\npoweroff when-idle\npoweroff never\n", 3,
                "a second poweroff line", "the first is line 2");
    check_error("poweroff never\npoweroff never\npartition a 2M x 1\n", 2,
                "a second poweroff line", "the first is line 1");
    check_error("partition a 2M x 1\nguest g image=g.elf image=h.elf\n", 2,
                "guest option 'image' is given twice", NULL);
    check_error("partition a 2M x 1\nguest g image=g.elf class=a class=a\n", 2,
                "guest option 'class' is given twice", NULL);
    check_error("guest g image=g.elf count=2 count=3\n", 1, "guest option 'count' is given twice",
                NULL);
    check_error("guest g image=g.elf args=a args=b\n", 1, "guest option 'args' is given twice",
                NULL);
    check_error("guest g image=g.elf timeout=5 timeout=6\n", 1,
                "guest option 'timeout' is given twice", NULL);
    check_error("guest g image=g.elf net=lan net=wan\n", 1, "guest option 'net' is given twice",
                "net=<switch>,<switch>");
    check_error("partition a 2M x 1\nswitch lan\nswitch wan\n\nswitch lan\n", 5,
                "switch 'lan' is declared twice", "first on line 2");
}

/* control net: its values, beside a control com2 line or alone. */
static void test_control_net_values(void **state)
{
    char text[512];
    (void)state;
    snprintf(text, sizeof(text), "partition a 2M x 1\nswitch lan\n"
             "control net lan ip=10.0.0.2 port=7000 mask=255.255.255.0 gw=10.0.0.1 "
             "mac=52:54:00:12:34:56 class=a key=%s store=8M\n", key_a);
    check_ok(text);
    assert_int_equal(cfg.control, 1);
    assert_int_equal(cfg.control_line, 0);
    assert_int_equal(cfg.control_net.line, 3);
    assert_string_equal(cfg.control_net.sw, "lan");
    assert_memory_equal(cfg.control_net.ip, ((uint8_t[4]){ 10, 0, 0, 2 }), 4);
    assert_memory_equal(cfg.control_net.mask, ((uint8_t[4]){ 255, 255, 255, 0 }), 4);
    assert_memory_equal(cfg.control_net.gw, ((uint8_t[4]){ 10, 0, 0, 1 }), 4);
    assert_int_equal(cfg.control_net.port, 7000);
    assert_int_equal(cfg.control_net.has_mac, 1);
    assert_int_equal(cfg.control_net.mac[5], 0x56);
    assert_string_equal(cfg.control_net.class_name, "a");
    assert_int_equal(cfg.store_size, 8 * 1024 * 1024);
    assert_int_equal(cfg.key_len, 16);
    /* The switch may be declared after the line, by an uplink; the key
     * may sit on the com2 line, store= on either. */
    snprintf(text, sizeof(text), "partition a 2M x 1\ncontrol net wan ip=192.168.1.9 port=1\n"
             "control com2 key=%s\nuplink wan\n", key_b);
    check_ok(text);
    assert_int_equal(cfg.control_line, 3);
    assert_int_equal(cfg.control_net.line, 2);
    assert_int_equal(cfg.control_net.has_mac, 0);
    assert_int_equal(cfg.control_net.class_name[0], 0);
    assert_memory_equal(cfg.control_net.mask, ((uint8_t[4]){ 0, 0, 0, 0 }), 4);
    assert_int_equal(cfg.store_size, STORE_DEFAULT);
    assert_int_equal(cfg.key_line, 3);
    snprintf(text, sizeof(text), "partition a 2M x 1\ncontrol com2 store=4M\n"
             "control net lan ip=10.0.0.2 port=65535 key=%s\nguest g image=g.elf net=lan\n",
             key_a);
    check_ok(text);
    assert_int_equal(cfg.store_size, 4 * 1024 * 1024);
    assert_int_equal(cfg.control_net.port, 65535);
}

/* control net errors, each on its line with what to do. */
static void test_control_net_errors(void **state)
{
    char text[512];
    (void)state;
    check_error("partition a 2M x 1\nswitch lan\ncontrol net lan ip=10.0.0.2 port=7000\n", 3,
                "network control needs a key", "add key=<hex> to a control line");
    check_error("partition a 2M x 1\nswitch lan\ncontrol com2\n"
                "control net lan ip=10.0.0.2 port=7000\n", 4, "network control needs a key",
                "--key");
#define NET_ERR(line, rest, w1, w2) \
    do { \
        snprintf(text, sizeof(text), "partition a 2M x 1\nswitch lan\n" line, rest, key_a); \
        check_error(text, 3, w1, w2); \
    } while (0)
    NET_ERR("control net %s key=%s\n", "lan port=1", "needs ip=A.B.C.D and port=N", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2", "needs ip=A.B.C.D and port=N", NULL);
    NET_ERR("control net %s key=%s\n", "ip=10.0.0.2 port=1", "expected 'control net <switch>",
            NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0 port=1", "bad ip '10.0.0'", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.256 port=1", "bad ip", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2. port=1", "bad ip", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=0.0.0.0 port=1", "bad ip", "unicast");
    NET_ERR("control net %s key=%s\n", "lan ip=224.0.0.1 port=1", "bad ip", "unicast");
    NET_ERR("control net %s key=%s\n", "lan ip=127.0.0.1 port=1", "bad ip", "unicast");
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=0", "bad port '0'", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=65536", "bad port", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=7x", "bad port", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 mask=255.0.255.0", "bad mask",
            "a run of ones");
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 mask=0.0.0.0", "bad mask", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 gw=255.255.255.255", "bad gw",
            NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 mac=01:00:00:00:00:01",
            "bad mac", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 class=nope",
            "names class 'nope'", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 color=red",
            "unknown control net option 'color=red'", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 ip=10.0.0.3",
            "control net option 'ip' is given twice", NULL);
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 port=2",
            "control net option 'port' is given twice", NULL);
    NET_ERR("control net %s key=%s\n", "nowhere ip=10.0.0.2 port=1",
            "names switch 'nowhere', which nothing declares", "switch nowhere");
    NET_ERR("control net %s key=%s\n", "lan ip=10.0.0.2 port=1 key=00112233445566778899aabbccddeeff",
            "control option 'key' is given twice", "first on line 3");
    NET_ERR("control bogus %s key=%s\n", "lan", "expected 'control com2", "control net <switch>");
#undef NET_ERR
    /* key= and store= once over both lines, the second naming the first. */
    snprintf(text, sizeof(text), "partition a 2M x 1\nswitch lan\ncontrol com2 key=%s\n"
             "control net lan ip=10.0.0.2 port=1 key=%s\n", key_a, key_b);
    check_error(text, 4, "control option 'key' is given twice", "first on line 3");
    snprintf(text, sizeof(text), "partition a 2M x 1\nswitch lan\ncontrol com2 store=4M\n"
             "control net lan ip=10.0.0.2 port=1 store=8M key=%s\n", key_a);
    check_error(text, 4, "control option 'store' is given twice", "first on line 3");
    snprintf(text, sizeof(text), "partition a 2M x 1\nswitch lan\n"
             "control net lan ip=10.0.0.2 port=1 key=%s\n"
             "control net lan ip=10.0.0.3 port=2\n", key_a);
    check_error(text, 4, "a second control line for net", "the first is line 3");
    snprintf(text, sizeof(text), "partition a 2M x 1\nswitch lan\n"
             "control net lan ip=10.0.0.2 port=1 key=%s\nguest control image=c.elf\n", key_a);
    check_error(text, 4, "guest name 'control' is taken by the network control guest",
                "line 3");
    /* Without control net a guest may still be called control. */
    check_ok("partition a 2M x 1\nguest control image=c.elf\n");
}

/* What may appear more than once and is not ambiguous still parses. */
static void test_repeats_that_are_fine(void **state)
{
    (void)state;
    /* A switch line for a switch a net= names, in either order. */
    check_ok("partition a 2M x 1\nguest g image=g.elf net=lan\nswitch lan\nswitch wan\n"
             "guest h image=h.elf net=wan,lan\n");
    assert_int_equal(cfg.switch_count, 2);
    assert_string_equal(cfg.switches[0], "lan");
    assert_int_equal(cfg.switch_lines[0], 3);
    assert_int_equal(cfg.switch_lines[1], 4);
    check_ok("partition a 2M x 1\nguest g image=g.elf net=lan\nguest h image=h.elf net=lan\n");
    assert_int_equal(cfg.switch_count, 1);
    assert_int_equal(cfg.switch_lines[0], 0);
    /* Two guest lines may share an image and a class. */
    check_ok("partition a 2M x 1\nguest g image=x.elf class=a\nguest h image=x.elf class=a\n");
    assert_int_equal(cfg.classes[0].line, 1);
}


/* ---- Solo5 device mappings (issue 10) ---------------------------------- */

static void test_devices(void **state)
{
    const struct config_guest *g;
    char why[192];

    (void)state;
    check_ok("partition mirage 32M x 2\n"
             "guest www image=www.hvt class=mirage net:service=lan0 block:storage=site.img\n"
             "guest db image=db.hvt block-sector-size:data=4096 block:data=\"db.img\" "
             "block:logs=logs.img net:admin=lan0 net:uplink=wan\n");
    g = &cfg.guests[0];
    assert_int_equal(g->device_count, 2);
    assert_int_equal(g->net_count, 0);
    assert_int_equal(g->devices[0].kind, CONFIG_DEVICE_NET);
    assert_string_equal(g->devices[0].name, "service");
    assert_string_equal(g->devices[0].target, "lan0");
    assert_int_equal(g->devices[0].sector_size, 0);
    assert_int_equal(g->devices[1].kind, CONFIG_DEVICE_BLOCK);
    assert_string_equal(g->devices[1].name, "storage");
    assert_string_equal(g->devices[1].target, "site.img");
    assert_int_equal(g->devices[1].sector_size, 0);
    /* The sector size before its block:, quotes stripped, line order kept. */
    g = &cfg.guests[1];
    assert_int_equal(g->device_count, 4);
    assert_string_equal(g->devices[0].name, "data");
    assert_string_equal(g->devices[0].target, "db.img");
    assert_int_equal(g->devices[0].sector_size, 4096);
    assert_string_equal(g->devices[1].name, "logs");
    assert_int_equal(g->devices[1].sector_size, 0);
    assert_string_equal(g->devices[3].target, "wan");
    /* A net: target joins the switches, as net= does. */
    assert_int_equal(cfg.switch_count, 2);
    assert_string_equal(cfg.switches[0], "lan0");
    assert_string_equal(cfg.switches[1], "wan");
    /* What the parser builds, the checker for control-channel lines takes. */
    for (uint32_t i = 0; i < cfg.guest_count; i++)
        if (config_check_guest(&cfg, &cfg.guests[i], why, sizeof(why)) != 0)
            fail_msg("config_check_guest refused line %u: %s", i, why);
    /* 8 devices with the longest name, and every sector size allowed. */
    check_ok("partition a 2M x 1\nguest g image=g.hvt "
             "block:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=a.img "
             "block:b=b.img block:c=c.img block:d=d.img block:e=e.img block:f=f.img "
             "block:g=g.img net:h=lan block-sector-size:b=512 block-sector-size:c=1024 "
             "block-sector-size:d=2048 block-sector-size:e=8192 block-sector-size:f=16384 "
             "block-sector-size:g=32768\n");
    assert_int_equal(cfg.guests[0].device_count, 8);
    assert_int_equal(strlen(cfg.guests[0].devices[0].name), 67);
    assert_int_equal(cfg.guests[0].devices[6].sector_size, 32768);
}

static void test_device_errors(void **state)
{
    (void)state;
    check_error("partition a 2M x 1\nguest g image=g.hvt net:ser-vice=lan\n", 2,
                "bad net: device name 'ser-vice'", "letters and digits");
    check_error("partition a 2M x 1\nguest g image=g.hvt block:=x.img\n", 2,
                "bad block: device name ''", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x.img\n", 2,
                "bad block: device name", "67 characters");
    check_error("partition a 2M x 1\nguest g image=g.hvt net:a=lan block:a=x.img\n", 2,
                "device 'a' is mapped twice", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img block:a=y.img\n", 2,
                "device 'a' is mapped twice", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt net:a=l net:b=l net:c=l net:d=l "
                "net:e=l net:f=l net:g=l net:h=l net:i=l\n", 2, "too many devices", "8");
    check_error("partition a 2M x 1\nguest g image=g.hvt net:a=no/switch\n", 2,
                "bad switch name 'no/switch'", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt net:a=\n", 2, "bad switch name", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=dir/x.img\n", 2,
                "block:a needs a file name", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=\n", 2,
                "block:a needs a file name", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a="
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 2,
                "too long", "63");
    /* Sector sizes: powers of two 512..32768, decimal, once, for a block device. */
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img "
                "block-sector-size:a=1000\n", 2, "bad sector size '1000'", "power of two");
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img "
                "block-sector-size:a=256\n", 2, "bad sector size '256'", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img "
                "block-sector-size:a=65536\n", 2, "bad sector size '65536'", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img "
                "block-sector-size:a=4K\n", 2, "bad sector size '4K'", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img "
                "block-sector-size:a=0\n", 2, "bad sector size '0'", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img "
                "block-sector-size:a=4096 block-sector-size:a=4096\n", 2,
                "block-sector-size:a is given twice", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img "
                "block-sector-size:b=4096\n", 2, "block-sector-size:b names no device",
                "block:b=<file>");
    check_error("partition a 2M x 1\nguest g image=g.hvt net:a=lan "
                "block-sector-size:a=4096\n", 2, "names a net: device", NULL);
    /* One personality a line: net= is a Mayfly guest's, net:/block: a Solo5 image's. */
    check_error("partition a 2M x 1\nguest g image=g.hvt net=lan net:service=lan\n", 2,
                "net= (ports of a Mayfly guest) and net:/block:", "one or the other");
    check_error("partition a 2M x 1\nguest g image=g.hvt block:a=x.img net=lan\n", 2,
                "net= (ports of a Mayfly guest) and net:/block:", NULL);
    check_error("partition a 2M x 1\nguest g image=g.hvt disk:a=x.img\n", 2,
                "unknown guest option 'disk:a'", "block:<device>");
    check_error("partition a 2M x 1\nguest g image=g.hvt nets=lan\n", 2,
                "unknown guest option 'nets'", "block-sector-size:<device>");
}

/* A valid Solo5 line for the checker, with a switch "lan" in cfg. */
static void device_line(struct config_guest *g)
{
    check_ok("partition a 2M x 1\nswitch lan\n");
    memset(g, 0, sizeof(*g));
    strcpy(g->name, "g");
    strcpy(g->image, "g.hvt");
    g->count = 1;
    g->device_count = 2;
    g->devices[0].kind = CONFIG_DEVICE_NET;
    strcpy(g->devices[0].name, "service");
    strcpy(g->devices[0].target, "lan");
    g->devices[1].kind = CONFIG_DEVICE_BLOCK;
    g->devices[1].sector_size = 4096;
    strcpy(g->devices[1].name, "storage");
    strcpy(g->devices[1].target, "site.img");
}

/* config_check_guest must refuse what the parser would: lines from START. */
static void test_check_guest_devices(void **state)
{
    static struct config_guest g;
    char why[192];

    (void)state;
#define REFUSED(word) do {                                                    \
        assert_int_equal(config_check_guest(&cfg, &g, why, sizeof(why)), -1); \
        if (!strstr(why, word))                                               \
            fail_msg("'%s' lacks '%s'", why, word);                           \
        device_line(&g);                                                      \
    } while (0)
    device_line(&g);
    assert_int_equal(config_check_guest(&cfg, &g, why, sizeof(why)), 0);
    g.devices[1].sector_size = 0;
    assert_int_equal(config_check_guest(&cfg, &g, why, sizeof(why)), 0);
    g.devices[1].sector_size = 1000;
    REFUSED("sector size 1000 is not a power of two");
    g.devices[1].sector_size = 65536;
    REFUSED("sector size 65536");
    g.devices[1].sector_size = 256;
    REFUSED("sector size 256");
    g.devices[0].sector_size = 512;
    REFUSED("net device service has a sector size");
    g.devices[0].kind = 3;
    REFUSED("device service has kind 3");
    g.devices[0].kind = 0;
    REFUSED("has kind 0");
    strcpy(g.devices[0].target, "wan");
    REFUSED("no switch 'wan'");
    memset(g.devices[0].target, 'x', sizeof(g.devices[0].target));
    REFUSED("net device service needs a switch name");
    memset(g.devices[0].name, 'a', sizeof(g.devices[0].name));     /* no NUL */
    REFUSED("bad device name");
    strcpy(g.devices[0].name, "ser.vice");
    REFUSED("bad device name");
    g.devices[0].name[0] = '\0';
    REFUSED("bad device name");
    strcpy(g.devices[1].target, "a/b");
    REFUSED("block device storage needs a file name");
    memset(g.devices[1].target, 'y', sizeof(g.devices[1].target));  /* no NUL */
    REFUSED("needs a file name");
    strcpy(g.devices[1].name, "service");
    REFUSED("device service is mapped twice");
    g.device_count = CONFIG_DEVICES_MAX + 1;
    REFUSED("too many devices");
    g.net_count = 1;
    strcpy(g.nets[0], "lan");
    REFUSED("one or the other");
#undef REFUSED
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_size_suffixes),
        cmocka_unit_test(test_size_malformed),
        cmocka_unit_test(test_size_overflow),
        cmocka_unit_test(test_size_largest_values),
        cmocka_unit_test(test_layout_comments_crlf_tabs),
        cmocka_unit_test(test_poweroff),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_guest_values),
        cmocka_unit_test(test_guest_timeout),
        cmocka_unit_test(test_guest_cpu),
        cmocka_unit_test(test_uplink_and_mac),
        cmocka_unit_test(test_summon),
        cmocka_unit_test(test_parse_ipv4),
        cmocka_unit_test(test_unknown_keyword),
        cmocka_unit_test(test_partition_shape),
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_partition_sizes),
        cmocka_unit_test(test_partition_counts),
        cmocka_unit_test(test_too_many_classes),
        cmocka_unit_test(test_guest_errors),
        cmocka_unit_test(test_guest_unknown_class),
        cmocka_unit_test(test_too_many_guests),
        cmocka_unit_test(test_quotes_and_words),
        cmocka_unit_test(test_value_lengths),
        cmocka_unit_test(test_line_length),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_no_classes),
        cmocka_unit_test(test_find_class_and_total),
        cmocka_unit_test(test_reparse_resets),
        cmocka_unit_test(test_control_values),
        cmocka_unit_test(test_duplicates_refused),
        cmocka_unit_test(test_control_net_values),
        cmocka_unit_test(test_control_net_errors),
        cmocka_unit_test(test_repeats_that_are_fine),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_device_errors),
        cmocka_unit_test(test_check_guest_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

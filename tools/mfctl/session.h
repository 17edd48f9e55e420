/*
 * mfctl's side of the control protocol (include/mayfly/control.h): a
 * session over the control socket (QEMU's chardev server, or the Bochs
 * relay of `mfctl run --control`), framed, checked and, when the
 * hypervisor asks for it, authenticated by hv/ctl_frame.c, the same codec
 * the hypervisor serves it with. Shared by the live commands (live.c) and
 * the test helper `mfctl raw` (raw.c).
 */
#ifndef MFCTL_SESSION_H
#define MFCTL_SESSION_H

#include <getopt.h>

#include "ctl_frame.h"
#include "mayfly/control.h"
#include "mfctl.h"

#define EXIT_REFUSED    1           /* the hypervisor refused a request */
#define EXIT_CONNECT    3           /* no connection, a timeout, a protocol error */

#define CTL_KEY_MAX     128         /* bytes of shared key */
#define CTL_TIMEOUT_DEFAULT 30ULL   /* seconds per reply */
#define CTL_CONNECT_TIMEOUT_MS 5000 /* a TCP connect (or --timeout, if shorter) */
/* A whole frame: header, the largest payload, a MAC. */
#define CTL_WIRE_MAX    (sizeof(struct mf_ctl_header) + MF_CTL_PAYLOAD_MAX + MF_CTL_MAC_BYTES)

/* The options every live command takes (and `raw`). */
struct live_options {
    const char *control;            /* the control address (control_address_parse) */
    const char *key_hex, *key_file;
    int json;
    unsigned long long timeout_s;   /* per reply */
};

enum {
    OPT_CONTROL = 0x100, OPT_KEY, OPT_KEY_FILE, OPT_JSON, OPT_TIMEOUT,
    OPT_COMMAND                     /* a command's own options start here */
};

#define LIVE_LONG_OPTIONS \
    { "control", required_argument, NULL, OPT_CONTROL }, \
    { "key", required_argument, NULL, OPT_KEY }, \
    { "key-file", required_argument, NULL, OPT_KEY_FILE }, \
    { "json", no_argument, NULL, OPT_JSON }, \
    { "timeout", required_argument, NULL, OPT_TIMEOUT }, \
    { "help", no_argument, NULL, 'h' }

/* The options' lines for a command's --help. */
#define LIVE_OPTIONS_HELP \
    "  -C, --control SOCKET  the control socket ('mfctl run --control SOCKET', or\n" \
    "                      QEMU's -chardev socket server on the hypervisor's COM2);\n" \
    "                      also unix:PATH, or tcp://HOST:PORT for the control guest\n" \
    "                      of a 'control net' line (its ip= and port=)\n" \
    "      --key HEX       the shared key (the config's control key=HEX), needed when\n" \
    "                      the hypervisor requires authentication\n" \
    "      --key-file FILE the key read from FILE (hex; keeps it off the command line)\n" \
    "      --json          machine-readable output on stdout\n" \
    "      --timeout SECONDS\n" \
    "                      how long to wait for each reply (default 30)\n" \
    "  -h, --help          this text\n"

#define LIVE_EXIT_HELP \
    "\nExit status: 0 done; 1 the hypervisor refused (its message is printed);\n" \
    "2 usage error; 3 no connection, a timeout or a protocol error.\n"

/* Defaults; call before parsing. */
void live_options_init(struct live_options *o);
#define LIVE_HANDLED    (-1)
#define LIVE_NOT_MINE   (-2)
/*
 * Handles one of the common options (and getopt's '?' and ':'). Returns
 * LIVE_HANDLED, LIVE_NOT_MINE when opt is a command's own, or an exit
 * status (0 after --help, EXIT_USAGE).
 */
int live_option(const char *command, struct live_options *o, int opt, char **argv);
/* A command's own option (its value >= OPT_COMMAND): returns -1 to go on,
 * or an exit status. */
typedef int (*own_option_fn)(void *ctx, int opt, const char *arg);
/*
 * Parses the common options and the command's own (own[], at most 20,
 * handled by fn with ctx). Returns -1 to go on (the operands are
 * argv[optind..]) or an exit status (0 after --help, usage errors).
 */
int live_parse(const char *command, int argc, char **argv, const struct option *own,
               own_option_fn fn, void *ctx, struct live_options *o);
/* Where --control points: "tcp://HOST:PORT" (an IPv4 address or a name),
 * "unix:PATH", or a bare PATH (a Unix socket). */
struct control_address {
    int tcp;
    const char *path;               /* Unix: the socket (inside the spec) */
    char host[256], port[8];        /* TCP */
};
/* 0, or -1 with why (for a usage message). */
int control_address_parse(const char *spec, struct control_address *a, char *why,
                          size_t why_size);
/* Checks what every live command needs (--control); 0 or EXIT_USAGE. */
int live_options_check(const char *command, const struct live_options *o);

/* A reply as it came: its header, its payload (copied) and its MAC. */
struct ctl_reply {
    struct mf_ctl_header hdr;
    uint8_t payload[MF_CTL_PAYLOAD_MAX];
    uint8_t mac[MF_CTL_MAC_BYTES];
    int has_mac;
};

struct session {
    int fd;
    const char *command;            /* for messages */
    const char *path;               /* the --control address as given */
    int tcp;                        /* over TCP, to a control guest */
    unsigned long long timeout_s;
    uint8_t key[CTL_KEY_MAX];
    size_t key_len;                 /* 0: no key given */
    int auth;                       /* the hypervisor requires a MAC */
    uint8_t nonce[MF_CTL_NONCE_BYTES];
    uint32_t seq;                   /* the last request's */
    uint32_t want;                  /* the request whose reply is awaited */
    struct mf_ctl_hello_reply hello;
    struct ctl_parser parser;
    uint8_t in[4096];               /* received, not yet parsed */
    size_t in_len, in_off;
    struct ctl_reply reply;         /* the latest reply */
    int32_t status;                 /* its status */
    char message[MF_CTL_MESSAGE_MAX];   /* and message, NUL-terminated */
    int32_t quiet_status;           /* a refusal session_call returns unsaid (0: none) */
};

/* Parses a hex key (the config's key=HEX); -1 with a message. */
int key_parse(const char *hex, uint8_t *key, size_t *len, const char *what);
/* The key from --key or --key-file into s (none: key_len 0); 0 or EXIT_USAGE. */
int session_key(struct session *s, const struct live_options *o);
/* Connects to the socket; 0 or EXIT_CONNECT. */
int session_connect(struct session *s, const char *command, const struct live_options *o);
/*
 * HELLO (seq 1): reads the nonce, whether a MAC is required and the rest
 * of the hypervisor's answer into s->hello. 0, EXIT_REFUSED, or
 * EXIT_CONNECT. require_key (the live commands' rules): fail
 * (EXIT_REFUSED) when a MAC is required and no key was given, and when a
 * key was given but the reply says none is required (the HELLO reply is
 * not authenticated: anyone could have sent it).
 */
int session_hello(struct session *s, int require_key);
/* The above for the live commands: key, connect, HELLO. */
int session_open(struct session *s, const char *command, const struct live_options *o);
void session_close(struct session *s);

/* Sends bytes as they are; 0 or EXIT_CONNECT. */
int session_send(struct session *s, const void *data, size_t len);
/*
 * Reads the next reply frame, waiting until deadline_ms (monotonic, see
 * monotonic_ms). Returns 1 with s->reply filled, 0 on timeout, -1 when the
 * connection closed or failed, -2 for bytes the codec refused (why says
 * what was wrong).
 */
int session_read(struct session *s, long long deadline_ms, char *why, size_t why_size);
/* The status and message of s->reply (a payload too short for one is a
 * protocol error: -1 with why). */
int session_reply_status(struct session *s, char *why, size_t why_size);
/*
 * One request and its reply: sends type with the next seq (with a MAC
 * when the hypervisor requires one), waits for the reply to that seq.
 * Returns 0 with the reply in s->reply (at least min_reply bytes),
 * EXIT_REFUSED after printing the hypervisor's message ("mfctl: WHAT:
 * MESSAGE"), or EXIT_CONNECT after printing what went wrong. With a key,
 * a reply without our MAC is never a success: an unsigned refusal is
 * EXIT_REFUSED, an unsigned success EXIT_CONNECT.
 */
int session_call(struct session *s, uint8_t type, const void *payload, uint32_t len,
                 uint32_t min_reply, const char *what);
/*
 * session_call in two halves, for requests in flight together (uploads
 * over TCP): the first sends type with the next seq (in *seq); the
 * second waits for the reply to seq and judges it as session_call does.
 * Replies come in request order, so requests sent together are finished
 * in the order they were sent.
 */
int session_send_request(struct session *s, uint8_t type, const void *payload, uint32_t len,
                         uint32_t *seq);
int session_finish(struct session *s, uint32_t seq, uint8_t type, uint32_t min_reply,
                   const char *what);
/* Whether a reply's MAC checks out against the session key and nonce. */
int session_reply_mac_ok(const struct session *s);

long long monotonic_ms(void);
/* The name of a request type ("LIST"), or NULL. */
const char *ctl_type_name(unsigned type);
/* uptime in milliseconds from TSC ticks (tsc_hz 0: unknown, returns 0). */
uint64_t tsc_to_ms(uint64_t ticks, uint64_t tsc_hz);

/* Live commands (live.c) and the test helper (raw.c). */
int cmd_load(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_raw(int argc, char **argv);

/* JSON string (with quotes) to f; bytes >= 0x80 pass through, control
 * characters are escaped. */
void json_string(FILE *f, const char *s, size_t len);

#endif

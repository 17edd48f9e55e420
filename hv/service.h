/*
 * A summoned service's front on its switch (issue 14, docs/summon.md):
 * a port with the service's MAC that stands for instances which may not
 * exist yet. The switch answers ARP for the service's address through
 * it; a frame for the service goes to the instance its flow is pinned
 * to, and when there is none (or it is still starting) the frame is held
 * here, bounded, and the slot it waits for is marked WANTED so that the
 * summoner (hv/summon.c, boot CPU) launches an instance. Once that
 * instance's port runs, the held frames are delivered in order.
 *
 * Instances share the service's MAC and address. Their ports carry
 * PORT_F_SERVICE: the switch never learns their source (the address is
 * the front's), sends them no broadcast (the front answers ARP), and
 * tells the front when one is detached (service_member_gone).
 *
 * Pure logic over the switch's types. Every call runs under the
 * switch's lock, like every port operation; the TSC comes from the
 * caller.
 */
#ifndef HV_SERVICE_H
#define HV_SERVICE_H

#include <stdint.h>
#include "param.h"
#include "port.h"

#define SERVICE_HOLD_FRAMES 64      /* frames waiting for an instance, per service */
#define SERVICE_FLOWS       128     /* flows pinned to instances (the oldest is replaced) */
#define SERVICE_ARP_QUEUE   8       /* ARP replies owed */
#define SERVICE_HOLD_MS     3000    /* a held frame not delivered by then is dropped */
#define SERVICE_FLOW_BUSY_MS 500    /* a flow with a frame this recent loads its instance */
#define SERVICE_START_MS    10000   /* an instance whose port never runs is given up */

enum service_slot_state {
    SLOT_FREE = 0,
    SLOT_WANTED,                    /* frames wait for it: to be launched */
    SLOT_STARTING,                  /* launched (guest_id), its port not running yet */
    SLOT_READY,                     /* its port runs: frames go straight to it */
};

struct service_slot {
    uint32_t state;                 /* enum service_slot_state */
    struct port *port;              /* the instance's, once it has joined */
    uint32_t guest_id;              /* once launched */
    uint64_t wanted_tsc;            /* the first frame that wanted it */
    uint64_t launched_tsc;          /* its launch returned */
    uint64_t ready_tsc;             /* its first frame was delivered */
    uint64_t active_tsc;            /* last seen moving a frame */
    uint64_t seen;                  /* its port's frames in and out at the last look */
    int replied;                    /* its first frame out has been timed */
    uint64_t reply_tsc;             /* then */
    uint8_t said_ready, said_reply; /* the summoner has logged them */
};

struct service_flow {
    uint32_t ip;                    /* the client's address */
    uint16_t port;                  /* its TCP/UDP port (0 for other protocols) */
    uint8_t proto;
    uint8_t slot;
    uint8_t used, closed;           /* closed: the client sent FIN or RST */
    uint64_t last_tsc;
};

struct service_held {
    uint64_t tsc;                   /* when it arrived */
    uint16_t len;
    uint8_t slot;
    uint8_t *data;                  /* MF_NET_FRAME_MAX bytes of the hold storage */
};

struct service_counts {
    uint64_t summoned;              /* instances launched */
    uint64_t launch_failures;
    uint64_t idled;                 /* stopped for being idle */
    uint64_t ended;                 /* instances gone (any reason) */
    uint64_t arp_answered;
    uint64_t held, flushed;         /* frames held, and delivered from the hold */
    uint64_t hold_drops;            /* no room to hold, or held too long, or its instance died */
    uint64_t no_instance_drops;     /* frames for no port the service serves, none running */
    uint64_t flows;                 /* flows pinned */
    uint64_t latency_sum, latency_min, latency_max, latency_count;  /* frame -> first reply */
    uint64_t ready_sum;             /* frame -> delivered to the instance, summed */
};

struct service {
    struct port port;               /* the front: first (deliver gets it back) */
    uint32_t ip;                    /* a << 24 | b << 16 | c << 8 | d */
    uint16_t l4port;                /* 0: any */
    uint32_t max;                   /* instances at once */
    uint64_t hold_tsc, busy_tsc, start_tsc;    /* SERVICE_*_MS in ticks */
    struct service_slot slots[SUMMON_INSTANCES_MAX];
    struct service_flow flows[SERVICE_FLOWS];
    uint32_t last_flow;             /* the flow found last (flow_find tries it first) */
    struct service_held held[SERVICE_HOLD_FRAMES];
    uint32_t held_count;
    uint8_t *hold_free[SERVICE_HOLD_FRAMES];   /* buffers not holding a frame */
    uint32_t hold_free_count;
    struct { uint8_t mac[6]; uint32_t ip; } arp[SERVICE_ARP_QUEUE];
    uint32_t arp_count;
    struct service_counts counts;
    uint64_t (*clock)(void);        /* the TSC */
    void (*wake)(void);             /* the summoner has work (a slot wanted, a port up) */
};

/* Bytes of hold storage service_init takes. */
#define SERVICE_HOLD_BYTES ((uint64_t)SERVICE_HOLD_FRAMES * MF_NET_FRAME_MAX)

/* A detached front: address, port (0: any), MAC, instances at most, the
 * clock (the TSC) and its rate, and hold storage of SERVICE_HOLD_BYTES.
 * s->wake may be set after (NULL: the summoner looks at its own pace). */
void service_init(struct service *s, uint32_t ip, uint16_t l4port, const uint8_t mac[6],
                  uint32_t max, uint64_t (*clock)(void), uint64_t tsc_hz,
                  uint8_t *hold_storage);

/* Attaches the front to sw, running, its MAC learnt on it. 0, or -1
 * (no free slot or no room in the forwarding table). */
int service_attach(struct service *s, struct vswitch *sw);

/* Instance port p of slot joins the service (it has just been attached
 * by its guest's launch and does not run yet). */
void service_join(struct service *s, uint32_t slot, struct port *p);

/* p, an instance's port, is being detached (its guest has ended): its
 * slot is free, its flows and held frames are gone. */
void service_member_gone(struct port *p);

/* p, an instance's port, runs now (its guest set it up): the summoner
 * is woken to hand it the held frames. */
void service_member_running(struct port *p);

/* A frame instance port p sends (the switch has accepted it): times the
 * slot's first reply. */
void service_member_sent(struct port *p);

/* What the summoner does for a service, under the switch's lock at TSC
 * now: sends the ARP replies owed, moves STARTING slots whose port runs
 * to READY and delivers their held frames, drops what was held too
 * long, forgets old flows. Then fills want[] with the slots to launch
 * (state WANTED) and idle[] with READY slots quiet for idle_tsc ticks
 * (the caller stops their guests), each with its count. */
void service_poll(struct service *s, uint64_t now, uint64_t idle_tsc,
                  uint32_t want[SUMMON_INSTANCES_MAX], uint32_t *want_count,
                  uint32_t idle[SUMMON_INSTANCES_MAX], uint32_t *idle_count);

/* The summoner's launch of slot: guest id (ok), or failed (its frames
 * and flows dropped, the slot free). */
void service_launched(struct service *s, uint32_t slot, uint32_t guest_id, uint64_t now);
void service_launch_failed(struct service *s, uint32_t slot);

/* A STARTING slot whose guest is gone before its port joined (the
 * summoner asked the fleet): freed like a failed launch. */
void service_start_lost(struct service *s, uint32_t slot);

/* Instances now (WANTED, STARTING or READY). */
uint32_t service_instances(const struct service *s);

#endif

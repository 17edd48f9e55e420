/*
 * Unit tests of hv/cap.c: cap_lookup is the one check between a guest's
 * slot number and an object, so every way it can refuse is tested (empty
 * or out-of-range slot, wrong type, each missing right and combinations),
 * with the seL4 rule that a refused or successful lookup changes nothing:
 * the space is compared byte for byte and a refused lookup leaves the
 * caller's output untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cap.h"
#include "../include/mayfly/abi.h"

#define ALL_RIGHTS (MF_RIGHT_READ | MF_RIGHT_WRITE | MF_RIGHT_GRANT | MF_RIGHT_CONTROL)

static const uint16_t rights_each[] = {
    MF_RIGHT_READ, MF_RIGHT_WRITE, MF_RIGHT_GRANT, MF_RIGHT_CONTROL,
};

static struct cap_space cs;
static int console_obj, notify_obj, port_obj[6];
static void *const poison = (void *)(uintptr_t)0xdeadbeefUL;

/* The layout every guest gets (include/mayfly/cap.h). */
static int setup(void **state)
{
    (void)state;
    memset(&cs, 0x5a, sizeof(cs));
    cap_space_clear(&cs);
    assert_int_equal(cap_install(&cs, MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_WRITE,
                                 &console_obj), 0);
    assert_int_equal(cap_install(&cs, MF_CAP_NOTIFICATION, MF_OBJ_NOTIFICATION,
                                 MF_RIGHT_READ, &notify_obj), 0);
    assert_int_equal(cap_install(&cs, MF_CAP_FIRST_PORT, MF_OBJ_NET_PORT,
                                 MF_RIGHT_READ | MF_RIGHT_WRITE, &port_obj[0]), 0);
    return 0;
}

/* Looks up and checks the space did not change and, on failure, that
 * *object was not written. */
static int lookup(uint64_t slot, uint16_t type, uint16_t rights, void **object)
{
    struct cap_space before;
    int rc;

    memcpy(&before, &cs, sizeof(cs));
    *object = poison;
    rc = cap_lookup(&cs, slot, type, rights, object);
    assert_memory_equal(&before, &cs, sizeof(cs));
    if (rc != 0)
        assert_ptr_equal(*object, poison);
    return rc;
}

static void test_clear_empties_every_slot(void **state)
{
    void *o;
    (void)state;
    cap_space_clear(&cs);
    for (uint64_t slot = 0; slot < MF_CAP_SLOTS; slot++) {
        assert_int_equal(cs.slots[slot].type, MF_OBJ_NONE);
        assert_int_equal(cs.slots[slot].rights, 0);
        assert_null(cs.slots[slot].object);
        assert_int_equal(lookup(slot, MF_OBJ_CONSOLE, 0, &o), -MF_ENOENT);
        assert_int_equal(lookup(slot, MF_OBJ_NONE, 0, &o), -MF_ENOENT);
    }
}

static void test_empty_slot(void **state)
{
    void *o;
    (void)state;
    for (uint64_t slot = MF_CAP_FIRST_PORT + 1; slot < MF_CAP_SLOTS; slot++) {
        assert_int_equal(lookup(slot, MF_OBJ_NET_PORT, MF_RIGHT_READ, &o), -MF_ENOENT);
        assert_int_equal(lookup(slot, MF_OBJ_NET_PORT, 0, &o), -MF_ENOENT);
        /* Asking for the empty type does not make an empty slot a match. */
        assert_int_equal(lookup(slot, MF_OBJ_NONE, 0, &o), -MF_ENOENT);
    }
}

static void test_out_of_range_slot(void **state)
{
    static const uint64_t bad[] = {
        MF_CAP_SLOTS, MF_CAP_SLOTS + 1, 1000, 1ULL << 32, (1ULL << 32) + MF_CAP_CONSOLE,
        UINT64_MAX, UINT64_MAX - MF_CAP_SLOTS + 1,
    };
    void *o;
    (void)state;
    assert_int_equal(MF_CAP_SLOTS, 8);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lookup(bad[i], MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), -MF_ENOENT);
        assert_int_equal(lookup(bad[i], MF_OBJ_NET_PORT, 0, &o), -MF_ENOENT);
    }
}

static void test_wrong_type(void **state)
{
    void *o;
    (void)state;
    assert_int_equal(lookup(MF_CAP_CONSOLE, MF_OBJ_NET_PORT, MF_RIGHT_WRITE, &o), -MF_ETYPE);
    assert_int_equal(lookup(MF_CAP_CONSOLE, MF_OBJ_NOTIFICATION, 0, &o), -MF_ETYPE);
    assert_int_equal(lookup(MF_CAP_NOTIFICATION, MF_OBJ_CONSOLE, MF_RIGHT_READ, &o), -MF_ETYPE);
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_GUEST_CONTROL, 0, &o), -MF_ETYPE);
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_NONE, 0, &o), -MF_ETYPE);
    /* Type is checked before rights: a wrong type with missing rights is ETYPE. */
    assert_int_equal(lookup(MF_CAP_CONSOLE, MF_OBJ_NET_PORT, ALL_RIGHTS, &o), -MF_ETYPE);
}

static void test_each_missing_right(void **state)
{
    void *o;
    (void)state;
    /* A slot with every right but one: asking for that one is EPERM. */
    for (size_t i = 0; i < 4; i++) {
        uint16_t missing = rights_each[i];
        assert_int_equal(cap_install(&cs, 5, MF_OBJ_NET_PORT,
                                     (uint16_t)(ALL_RIGHTS & ~missing), &port_obj[1]), 0);
        assert_int_equal(lookup(5, MF_OBJ_NET_PORT, missing, &o), -MF_EPERM);
        for (size_t j = 0; j < 4; j++) {
            if (j == i)
                continue;
            assert_int_equal(lookup(5, MF_OBJ_NET_PORT, rights_each[j], &o), 0);
            assert_ptr_equal(o, &port_obj[1]);
            assert_int_equal(lookup(5, MF_OBJ_NET_PORT, rights_each[j] | missing, &o),
                             -MF_EPERM);
        }
        assert_int_equal(lookup(5, MF_OBJ_NET_PORT, ALL_RIGHTS, &o), -MF_EPERM);
    }
}

/* Every held set against every asked set: success exactly when asked is
 * a subset of held. */
static void test_rights_combinations(void **state)
{
    void *o;
    (void)state;
    for (uint16_t held = 0; held <= ALL_RIGHTS; held++) {
        assert_int_equal(cap_install(&cs, 6, MF_OBJ_GUEST_CONTROL, held, &port_obj[2]), 0);
        for (uint16_t asked = 0; asked <= ALL_RIGHTS; asked++) {
            int rc = lookup(6, MF_OBJ_GUEST_CONTROL, asked, &o);
            if ((asked & ~held) == 0) {
                assert_int_equal(rc, 0);
                assert_ptr_equal(o, &port_obj[2]);
            } else {
                assert_int_equal(rc, -MF_EPERM);
            }
        }
    }
}

static void test_conventional_slots(void **state)
{
    void *o;
    (void)state;
    assert_int_equal(lookup(MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), 0);
    assert_ptr_equal(o, &console_obj);
    assert_int_equal(lookup(MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_READ, &o), -MF_EPERM);
    assert_int_equal(lookup(MF_CAP_NOTIFICATION, MF_OBJ_NOTIFICATION, MF_RIGHT_READ, &o), 0);
    assert_ptr_equal(o, &notify_obj);
    assert_int_equal(lookup(MF_CAP_NOTIFICATION, MF_OBJ_NOTIFICATION, MF_RIGHT_WRITE, &o),
                     -MF_EPERM);
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_NET_PORT,
                            MF_RIGHT_READ | MF_RIGHT_WRITE, &o), 0);
    assert_ptr_equal(o, &port_obj[0]);
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_NET_PORT, MF_RIGHT_GRANT, &o),
                     -MF_EPERM);
    /* No rights asked: only type and presence are checked. */
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_NET_PORT, 0, &o), 0);
    assert_ptr_equal(o, &port_obj[0]);
}

/* The object pointer is returned as installed, whatever it is: the table
 * does not interpret it (a NULL object in a typed slot is still found). */
static void test_success_returns_object(void **state)
{
    void *o;
    (void)state;
    for (uint64_t slot = MF_CAP_FIRST_PORT; slot < MF_CAP_SLOTS; slot++)
        assert_int_equal(cap_install(&cs, slot, MF_OBJ_NET_PORT, MF_RIGHT_READ,
                                     &port_obj[slot - MF_CAP_FIRST_PORT]), 0);
    for (uint64_t slot = MF_CAP_FIRST_PORT; slot < MF_CAP_SLOTS; slot++) {
        assert_int_equal(lookup(slot, MF_OBJ_NET_PORT, MF_RIGHT_READ, &o), 0);
        assert_ptr_equal(o, &port_obj[slot - MF_CAP_FIRST_PORT]);
    }
    assert_int_equal(cap_install(&cs, 7, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, NULL), 0);
    assert_int_equal(lookup(7, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), 0);
    assert_null(o);
}

static void test_lookup_has_no_side_effects(void **state)
{
    struct cap_space before;
    void *o;
    (void)state;
    memcpy(&before, &cs, sizeof(cs));
    /* Many lookups, good and bad, in a row; the space is never written. */
    for (uint64_t slot = 0; slot < MF_CAP_SLOTS + 2; slot++)
        for (uint16_t type = 0; type <= MF_OBJ_GUEST_CONTROL; type++)
            for (uint16_t rights = 0; rights <= ALL_RIGHTS; rights++)
                (void)lookup(slot, type, rights, &o);
    assert_memory_equal(&before, &cs, sizeof(cs));
    /* And the same lookup still gives the same answer. */
    assert_int_equal(lookup(MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), 0);
    assert_ptr_equal(o, &console_obj);
}

static void test_install_out_of_range(void **state)
{
    struct cap_space before;
    void *o;
    (void)state;
    memcpy(&before, &cs, sizeof(cs));
    assert_int_equal(cap_install(&cs, MF_CAP_SLOTS, MF_OBJ_CONSOLE, MF_RIGHT_WRITE,
                                 &console_obj), -1);
    assert_int_equal(cap_install(&cs, 1000, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &console_obj), -1);
    assert_int_equal(cap_install(&cs, UINT64_MAX, MF_OBJ_CONSOLE, MF_RIGHT_WRITE,
                                 &console_obj), -1);
    assert_int_equal(cap_install(&cs, 1ULL << 32, MF_OBJ_CONSOLE, MF_RIGHT_WRITE,
                                 &console_obj), -1);
    assert_memory_equal(&before, &cs, sizeof(cs));
    assert_int_equal(lookup(MF_CAP_SLOTS, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), -MF_ENOENT);
    /* The last slot is in range. */
    assert_int_equal(cap_install(&cs, MF_CAP_SLOTS - 1, MF_OBJ_CONSOLE, MF_RIGHT_WRITE,
                                 &console_obj), 0);
    assert_int_equal(lookup(MF_CAP_SLOTS - 1, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), 0);
}

static void test_install_replaces_and_empties(void **state)
{
    void *o;
    (void)state;
    /* Reinstalling a slot replaces type, rights and object together. */
    assert_int_equal(cap_install(&cs, MF_CAP_FIRST_PORT, MF_OBJ_CONSOLE, MF_RIGHT_WRITE,
                                 &console_obj), 0);
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_NET_PORT, 0, &o), -MF_ETYPE);
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), 0);
    assert_ptr_equal(o, &console_obj);
    /* Installing the empty type revokes the slot. */
    assert_int_equal(cap_install(&cs, MF_CAP_FIRST_PORT, MF_OBJ_NONE, ALL_RIGHTS,
                                 &console_obj), 0);
    assert_int_equal(lookup(MF_CAP_FIRST_PORT, MF_OBJ_CONSOLE, 0, &o), -MF_ENOENT);
    /* Clearing the space revokes everything, the others included. */
    cap_space_clear(&cs);
    assert_int_equal(lookup(MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &o), -MF_ENOENT);
    assert_int_equal(lookup(MF_CAP_NOTIFICATION, MF_OBJ_NOTIFICATION, MF_RIGHT_READ, &o),
                     -MF_ENOENT);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_clear_empties_every_slot),
        T(test_empty_slot),
        T(test_out_of_range_slot),
        T(test_wrong_type),
        T(test_each_missing_right),
        T(test_rights_combinations),
        T(test_conventional_slots),
        T(test_success_returns_object),
        T(test_lookup_has_no_side_effects),
        T(test_install_out_of_range),
        T(test_install_replaces_and_empties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

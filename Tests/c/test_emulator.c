/* ferry_emulator_start / ferry_emulator_stop: the reply, several emulators at once, and hostile inputs. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (100u * 1024u * 1024u)

void test_emulator(void) {
    ferry_emulator *emu = NULL, *other = NULL, *closed = NULL;
    ferry_engine *engine;
    json_t *info = NULL, *endpoints;
    char *out = NULL, config[128], *big;
    const char *key;
    json_t *url;
    int rc;

    emu = emulator_start(NULL, &info);
    if (emu == NULL) return;
    CHECK(strncmp(jstr(info, "base_url"), "http://127.0.0.1:", 17) == 0, "base_url %s", jstr(info, "base_url"));
    CHECK(json_integer_value(json_object_get(info, "port")) > 0, "port");
    CHECK(strlen(jstr(info, "admin_url")) > 0, "admin_url");
    CHECK(json_is_array(json_object_get(info, "access_keys")), "access_keys");
    endpoints = json_object_get(info, "endpoints");
    CHECK(json_object_size(endpoints) == 4, "4 endpoints");
    json_object_foreach(endpoints, key, url) {
        CHECK(strcmp(json_string_value(url), jstr(info, "base_url")) == 0, "endpoint %s", key);
    }
    {
        /* The secret of an explicitly configured key never comes back. */
        json_t *info2 = NULL;
        ferry_emulator *keyed = emulator_start("{\"access_keys\":[\"MYKEY:my-very-secret\"],\"time_scale\":10}", &info2);
        char *text = json_dumps(info2, JSON_COMPACT);
        CHECK(text != NULL && strstr(text, "my-very-secret") == NULL && strstr(text, "MYKEY") != NULL,
              "reply lists key ids only: %s", text ? text : "");
        free(text);
        CHECK(keyed != NULL && ferry_emulator_stop(keyed) == FERRY_OK, "stop keyed");
        json_decref(info2);
    }

    /* Two emulators at once; the second on an explicit port. */
    rc = ferry_emulator_start("{\"port\":0}", &other, NULL);
    CHECK(rc == FERRY_OK && other != NULL && other != emu, "second emulator with out = NULL");

    /* An engine pointed at it works (see test_operations for calls). */
    {
        char *cfg = engine_config_for(info, NULL, NULL, NULL);
        engine = open_engine(cfg);
        free(cfg);
        CHECK(engine != NULL && ferry_call(engine, "huawei.dcs.ListMigrationTask", NULL, NULL, NULL) == FERRY_OK,
              "call through emulator");
        ferry_engine_close(engine);
    }

    /* Hostile. */
    EXPECT_ERROR("emulator: out_emulator NULL", ferry_emulator_start(NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT,
                 "out_emulator");
#define START_FAILS(label, cfg, code)                                                                       \
    do {                                                                                                    \
        ferry_emulator *h_ = (ferry_emulator *)0x1;                                                         \
        EXPECT_ERROR(label, ferry_emulator_start(cfg, &h_, &out), out, code, NULL);                        \
        CHECK(h_ == NULL, "%s: *out_emulator NULL on failure", label);                                     \
    } while (0)
    START_FAILS("emulator: malformed config", "{\"port\":", FERRY_EINVALID_JSON);
    START_FAILS("emulator: config array", "[]", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: unknown option", "{\"bogus\":1}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: port string", "{\"port\":\"8080\"}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: port 70000", "{\"port\":70000}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: port -1", "{\"port\":-1}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: port 1e300", "{\"port\":1e300}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: key without secret", "{\"access_keys\":[\"JUSTANID\"]}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: faults not an array", "{\"faults\":5}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: unknown fault kind", "{\"faults\":[{\"kind\":\"meteor\"}]}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: fault on unknown operation",
                "{\"faults\":[{\"kind\":\"throttle\",\"operation\":\"x.y.Z\"}]}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: persist_path number", "{\"persist_path\":5}", FERRY_EINVALID_ARGUMENT);
    START_FAILS("emulator: invalid UTF-8", "{\"access_keys\":[\"A:\xff\"]}", FERRY_EINVALID_UTF8);
    snprintf(config, sizeof config, "{\"port\":%d}", (int)json_integer_value(json_object_get(info, "port")));
    START_FAILS("emulator: port in use", config, FERRY_EEMULATOR_ERROR);
    big = malloc(BIG + 1);
    if (CHECK(big != NULL, "malloc")) {
        memset(big, ' ', BIG);
        big[0] = '{';
        big[BIG - 1] = '}';
        big[BIG] = '\0';
        START_FAILS("emulator: 100 MB config", big, FERRY_ETOO_LARGE);
        memset(big, '[', 10000);
        big[10000] = '\0';
        START_FAILS("emulator: 10000-deep config", big, FERRY_ETOO_LARGE);
        free(big);
    }
    EXPECT_STATUS("emulator: bad config, out NULL", ferry_emulator_start("[", &closed, NULL), FERRY_EINVALID_JSON);
#undef START_FAILS

    CHECK(ferry_emulator_stop(other) == FERRY_OK, "stop second");
    EXPECT_STATUS("emulator stop: double stop", ferry_emulator_stop(other), FERRY_ECLOSED);
    EXPECT_STATUS("emulator stop: NULL", ferry_emulator_stop(NULL), FERRY_EINVALID_ARGUMENT);
    EXPECT_STATUS("emulator stop: made-up", ferry_emulator_stop((ferry_emulator *)0x1234), FERRY_EINVALID_ARGUMENT);
    engine = open_engine(NULL);
    EXPECT_STATUS("emulator stop: engine handle", ferry_emulator_stop((ferry_emulator *)(void *)engine),
                  FERRY_EINVALID_ARGUMENT);
    EXPECT_STATUS("engine close: emulator handle", ferry_engine_close((ferry_engine *)(void *)emu),
                  FERRY_EINVALID_ARGUMENT);
    ferry_engine_close(engine);
    CHECK(ferry_emulator_stop(emu) == FERRY_OK, "stop first");
    {
        /* The port is free again once stopped. */
        ferry_emulator *again = NULL;
        rc = ferry_emulator_start(config, &again, NULL);
        CHECK(rc == FERRY_OK, "restart on the same port: %d", rc);
        if (rc == FERRY_OK) ferry_emulator_stop(again);
    }
    json_decref(info);
}

/* ferry_ops and ferry_call: the catalog, calls against the emulator, and their hostile inputs. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (100u * 1024u * 1024u)

static char *repeat(size_t n, char c) {
    char *p = malloc(n + 1);
    if (p != NULL) {
        memset(p, c, n);
        p[n] = '\0';
    }
    return p;
}

static void test_ops(void) {
    char *out = NULL;
    json_t *catalog, *entry;
    size_t i;
    int rc;

    rc = ferry_ops(NULL, &out);
    catalog = EXPECT_OK("ops(NULL)", rc, out);
    CHECK(json_is_array(catalog) && json_array_size(catalog) == 24, "24 operations, got %d",
          (int)json_array_size(catalog));
    for (i = 0; i < json_array_size(catalog); i++) {
        const char *name = jstr(json_array_get(catalog, i), "name");
        rc = ferry_ops(name, &out);
        entry = EXPECT_OK(name, rc, out);
        CHECK(strcmp(jstr(entry, "name"), name) == 0, "entry for %s", name);
        CHECK(json_is_array(json_object_get(entry, "parameters")), "%s has parameters", name);
        json_decref(entry);
    }
    rc = ferry_ops("", &out);
    entry = EXPECT_OK("ops(\"\")", rc, out);
    CHECK(json_equal(entry, catalog), "\"\" lists the catalog like NULL");
    json_decref(entry);
    json_decref(catalog);
    CHECK(ferry_ops(NULL, NULL) == FERRY_OK, "ops with out = NULL");

    EXPECT_ERROR("ops: unknown name", ferry_ops("huawei.dcs.Nope", &out), out, FERRY_ENOT_FOUND, "name");
    EXPECT_ERROR("ops: family only", ferry_ops("huawei.dcs", &out), out, FERRY_ENOT_FOUND, "name");
    EXPECT_ERROR("ops: leading space", ferry_ops(" huawei.dcs.ShowMigrationTask", &out), out, FERRY_ENOT_FOUND, "name");
    EXPECT_ERROR("ops: wrong case", ferry_ops("HUAWEI.DCS.SHOWMIGRATIONTASK", &out), out, FERRY_ENOT_FOUND, "name");
    EXPECT_ERROR_D("ops: invalid UTF-8", ferry_ops("huawei.\xff", &out), out, FERRY_EINVALID_UTF8, "name", "offset", 7);
    EXPECT_STATUS("ops: unknown, out NULL", ferry_ops("x", NULL), FERRY_ENOT_FOUND);
    {
        char *big = repeat(BIG, 'a');
        if (CHECK(big != NULL, "malloc")) {
            EXPECT_ERROR("ops: 100 MB name", ferry_ops(big, &out), out, FERRY_ETOO_LARGE, "name");
            free(big);
        }
    }
}

static void test_call(void) {
    json_t *info = NULL, *faulty_info = NULL, *v;
    ferry_emulator *emu = emulator_start(NULL, &info);
    ferry_emulator *faulty = emulator_start(
        "{\"faults\":[{\"operation\":\"huawei.dcs.ListMigrationTask\",\"kind\":\"throttle\"},"
        "{\"operation\":\"alibaba.mse.ListMigrationTask\",\"kind\":\"server_error\",\"status\":503}]}",
        &faulty_info);
    char *config, *out = NULL, *big;
    ferry_engine *e, *closed, *wrong_key, *nowhere, *no_creds, *limited, *throttled;
    int rc;

    if (emu == NULL || faulty == NULL) return;
    config = engine_config_for(info, NULL, NULL, NULL);
    e = open_engine(config);
    free(config);
    config = engine_config_for(info, NULL, "not-the-secret", NULL);
    wrong_key = open_engine(config);
    free(config);
    config = engine_config_for(info, NULL, NULL, "{\"limits\":{\"max_input_bytes\":64,\"max_depth\":3}}");
    limited = open_engine(config);
    free(config);
    config = engine_config_for(faulty_info, NULL, NULL, NULL);
    throttled = open_engine(config);
    free(config);
    nowhere = open_engine("{\"endpoints\":{\"huawei.dcs\":\"http://127.0.0.1:1\"},"
                          "\"credentials\":{\"huawei\":{\"ak\":\"AK\",\"sk\":\"SK\",\"project_id\":\"p\"}}}");
    no_creds = open_engine("{\"regions\":{\"huawei\":\"cn-north-4\",\"alibaba\":\"cn-hangzhou\"}}");
    closed = open_engine(NULL);
    ferry_engine_close(closed);
    if (e == NULL || wrong_key == NULL || limited == NULL || throttled == NULL || nowhere == NULL || no_creds == NULL)
        return;

    /* Success. */
    rc = ferry_call(e, "huawei.dcs.ListMigrationTask", NULL, NULL, &out);
    v = EXPECT_OK("call ListMigrationTask", rc, out);
    CHECK(json_is_object(v) && json_is_array(json_object_get(v, "migration_tasks")), "migration_tasks array");
    json_decref(v);
    rc = ferry_call(e, "huawei.dcs.ListMigrationTask", "{}", "{\"reveal_secrets\":true}", &out);
    json_decref(EXPECT_OK("call with {} and reveal_secrets", rc, out));
    rc = ferry_call(e, "alibaba.mse.ListMigrationTask", "", "", &out);
    json_decref(EXPECT_OK("call alibaba with empty strings", rc, out));
    CHECK(ferry_call(e, "huawei.dcs.ListMigrationTask", NULL, NULL, NULL) == FERRY_OK, "call with out = NULL");

    /* Handles. */
    EXPECT_ERROR("call: NULL engine", ferry_call(NULL, "huawei.dcs.ListMigrationTask", NULL, NULL, &out), out,
                 FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("call: made-up engine", ferry_call((ferry_engine *)0x1234, "huawei.dcs.ListMigrationTask", NULL, NULL,
                 &out), out, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("call: emulator handle as engine", ferry_call((ferry_engine *)(void *)emu,
                 "huawei.dcs.ListMigrationTask", NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("call: closed engine", ferry_call(closed, "huawei.dcs.ListMigrationTask", NULL, NULL, &out), out,
                 FERRY_ECLOSED, "engine");

    /* Operation names. */
    EXPECT_ERROR("call: NULL operation", ferry_call(e, NULL, NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "operation");
    EXPECT_ERROR("call: empty operation", ferry_call(e, "", NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "operation");
    EXPECT_ERROR("call: unknown operation", ferry_call(e, "huawei.dcs.DropEverything", NULL, NULL, &out), out,
                 FERRY_EINVALID_ARGUMENT, "operation");
    EXPECT_ERROR("call: invalid UTF-8 operation", ferry_call(e, "huawei.dcs.\xc3(", NULL, NULL, &out), out,
                 FERRY_EINVALID_UTF8, "operation");

    /* Parameters and options. */
    EXPECT_ERROR("call: malformed params", ferry_call(e, "huawei.dcs.ShowMigrationTask", "{\"task_id\":", NULL, &out),
                 out, FERRY_EINVALID_JSON, "params");
    EXPECT_ERROR("call: params array", ferry_call(e, "huawei.dcs.ShowMigrationTask", "[]", NULL, &out), out,
                 FERRY_EINVALID_ARGUMENT, "params");
    EXPECT_ERROR("call: missing required param", ferry_call(e, "huawei.dcs.ShowMigrationTask", "{}", NULL, &out), out,
                 FERRY_EINVALID_ARGUMENT, "params.task_id");
    EXPECT_ERROR("call: wrong-typed param", ferry_call(e, "huawei.dcs.ShowMigrationTask", "{\"task_id\":5}", NULL,
                 &out), out, FERRY_EINVALID_ARGUMENT, "params.task_id");
    EXPECT_ERROR("call: unknown param", ferry_call(e, "huawei.dcs.ShowMigrationTask",
                 "{\"task_id\":\"t\",\"bogus\":1}", NULL, &out), out, FERRY_EINVALID_ARGUMENT, "params.bogus");
    EXPECT_ERROR("call: invalid UTF-8 params", ferry_call(e, "huawei.dcs.ShowMigrationTask", "{\"task_id\":\"\xe2\x82\"}",
                 NULL, &out), out, FERRY_EINVALID_UTF8, "params");
    EXPECT_ERROR("call: malformed options", ferry_call(e, "huawei.dcs.ListMigrationTask", NULL, "{", &out), out,
                 FERRY_EINVALID_JSON, "options");
    EXPECT_ERROR("call: options array", ferry_call(e, "huawei.dcs.ListMigrationTask", NULL, "[1]", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options");
    EXPECT_ERROR("call: reveal_secrets string", ferry_call(e, "huawei.dcs.ListMigrationTask", NULL,
                 "{\"reveal_secrets\":\"yes\"}", &out), out, FERRY_EINVALID_ARGUMENT, "options.reveal_secrets");
    big = repeat(BIG, ' ');
    if (CHECK(big != NULL, "malloc")) {
        big[0] = '{';
        big[BIG - 1] = '}';
        EXPECT_ERROR("call: 100 MB params", ferry_call(e, "huawei.dcs.ListMigrationTask", big, NULL, &out), out,
                     FERRY_ETOO_LARGE, "params");
        free(big);
    }
    /* The engine's own limits apply to its calls. */
    EXPECT_ERROR("call: params over the engine's max_input_bytes", ferry_call(limited, "huawei.dcs.ShowMigrationTask",
                 "{\"task_id\":\"0123456789012345678901234567890123456789012345678901234567890123\"}", NULL, &out),
                 out, FERRY_ETOO_LARGE, "params");
    EXPECT_ERROR("call: params over the engine's max_depth", ferry_call(limited, "huawei.dcs.ShowMigrationTask",
                 "{\"a\":[[[1]]]}", NULL, &out), out, FERRY_ETOO_LARGE, "params");

    /* Provider outcomes map to their codes, with provider details. */
    rc = ferry_call(e, "huawei.dcs.ShowMigrationTask", "{\"task_id\":\"no-such-task\"}", NULL, &out);
    if (CHECK(rc == FERRY_ENOT_FOUND && out != NULL, "unknown task: %d", rc)) {
        json_t *err = json_loads(out, 0, NULL), *d = json_object_get(err, "details");
        CHECK(json_integer_value(json_object_get(d, "http_status")) == 404 && strlen(jstr(d, "provider_code")) > 0 &&
              strlen(jstr(d, "request_id")) > 0, "provider details: %s", out);
        json_decref(err);
    }
    ferry_free(out);
    EXPECT_ERROR("call: provider 404", ferry_call(e, "huawei.dcs.ShowMigrationTask", "{\"task_id\":\"no-such-task\"}",
                 NULL, &out), out, FERRY_ENOT_FOUND, NULL);
    EXPECT_ERROR("call: wrong secret", ferry_call(wrong_key, "alibaba.mse.ListMigrationTask", NULL, NULL, &out), out,
                 FERRY_EAUTH_FAILED, NULL);
    EXPECT_ERROR("call: wrong secret (huawei)", ferry_call(wrong_key, "huawei.dcs.ListMigrationTask", NULL, NULL, &out),
                 out, FERRY_EAUTH_FAILED, NULL);
    EXPECT_ERROR("call: nothing listening", ferry_call(nowhere, "huawei.dcs.ListMigrationTask", NULL, NULL, &out), out,
                 FERRY_EUNAVAILABLE, NULL);
    EXPECT_ERROR("call: no credentials", ferry_call(no_creds, "huawei.dcs.ListMigrationTask", NULL, NULL, &out), out,
                 FERRY_EMISSING_CREDENTIALS, NULL);
    EXPECT_ERROR("call: throttled", ferry_call(throttled, "huawei.dcs.ListMigrationTask", NULL, NULL, &out), out,
                 FERRY_ETHROTTLED, NULL);
    EXPECT_ERROR("call: provider 503", ferry_call(throttled, "alibaba.mse.ListMigrationTask", NULL, NULL, &out), out,
                 FERRY_EUNAVAILABLE, NULL);

    ferry_engine_close(e);
    ferry_engine_close(wrong_key);
    ferry_engine_close(limited);
    ferry_engine_close(throttled);
    ferry_engine_close(nowhere);
    ferry_engine_close(no_creds);
    CHECK(ferry_emulator_stop(emu) == FERRY_OK, "stop");
    CHECK(ferry_emulator_stop(faulty) == FERRY_OK, "stop");
    json_decref(info);
    json_decref(faulty_info);
}

void test_operations(void) {
    test_ops();
    test_call();
}

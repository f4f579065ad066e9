/* ferry_validate and ferry_run_*: a run driven through a gate against the emulator, cancellation, the
 * one-advancer rule (FERRY_EBUSY), and hostile inputs for every run function. */
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char WORKFLOW[] =
    "{\"ferry\":1,\"name\":\"abi-test\",\"inputs\":{\"x\":{\"type\":\"string\"},\"n\":{\"type\":\"integer\",\"default\":3}},"
    "\"steps\":["
    "{\"id\":\"list\",\"call\":\"huawei.dcs.ListMigrationTask\"},"
    "{\"id\":\"approve\",\"gate\":\"go\"},"
    "{\"id\":\"again\",\"call\":\"alibaba.mse.ListMigrationTask\"}],"
    "\"outputs\":{\"x\":\"${inputs.x}\",\"n\":\"${inputs.n}\"}}";

/* One slow step (the emulator delays the call) so a second advancer finds the run busy. */
static const char SLOW_WORKFLOW[] =
    "{\"ferry\":1,\"name\":\"slow\",\"steps\":[{\"id\":\"slow\",\"call\":\"alibaba.mse.ListMigrationTask\"}]}";

struct driver {
    ferry_engine *engine;
    const char *run_id;
    int rc;
    char *out;
};

static void *drive(void *arg) {
    struct driver *d = arg;
    d->rc = ferry_run_drive(d->engine, d->run_id, NULL, &d->out);
    return NULL;
}

static char *run_id_of(json_t *status) {
    const char *id = jstr(status, "run_id");
    char *copy = malloc(strlen(id) + 1);
    if (copy != NULL) strcpy(copy, id);
    return copy;
}

static void test_happy_path(ferry_engine *e) {
    char *out = NULL, *id;
    json_t *v, *events;
    int rc, i;

    rc = ferry_validate(e, WORKFLOW, &out);
    v = EXPECT_OK("validate", rc, out);
    CHECK(json_is_true(json_object_get(v, "valid")), "valid");
    json_decref(v);
    CHECK(ferry_validate(e, WORKFLOW, NULL) == FERRY_OK, "validate with out = NULL");

    rc = ferry_run_start(e, WORKFLOW, "{\"x\":\"hello \xe4\xb8\x96\xe7\x95\x8c\"}", NULL, &out);
    v = EXPECT_OK("run_start", rc, out);
    if (v == NULL) return;
    CHECK(strcmp(jstr(v, "status"), "running") == 0, "starts running");
    id = run_id_of(v);
    json_decref(v);

    for (i = 0; i < 10; i++) {
        rc = ferry_run_advance(e, id, NULL, &out);
        v = EXPECT_OK("advance", rc, out);
        if (v == NULL || strcmp(jstr(v, "status"), "waiting_gate") == 0) {
            json_decref(v);
            break;
        }
        json_decref(v);
    }
    CHECK(i < 10, "reaches the gate");
    rc = ferry_run_signal(e, id, "go", "{\"approved_by\":\"c-tests\"}", &out);
    json_decref(EXPECT_OK("signal", rc, out));
    rc = ferry_run_drive(e, id, "{\"budget_seconds\":30}", &out);
    v = EXPECT_OK("drive", rc, out);
    CHECK(strcmp(jstr(v, "status"), "succeeded") == 0, "succeeded: %s", jstr(v, "status"));
    json_decref(v);
    rc = ferry_run_status(e, id, &out);
    v = EXPECT_OK("status", rc, out);
    CHECK(strcmp(jstr(json_object_get(v, "outputs"), "x"), "hello \xe4\xb8\x96\xe7\x95\x8c") == 0, "outputs.x");
    json_decref(v);
    rc = ferry_run_history(e, id, NULL, &out);
    v = EXPECT_OK("history", rc, out);
    events = json_object_get(v, "events");
    CHECK(json_array_size(events) > 3 && strcmp(jstr(json_array_get(events, 0), "type"), "run_created") == 0,
          "history starts with run_created");
    json_decref(v);
    rc = ferry_run_list(e, NULL, &out);
    v = EXPECT_OK("list", rc, out);
    CHECK(json_array_size(json_object_get(v, "runs")) >= 1, "listed");
    json_decref(v);
    rc = ferry_run_list(e, "{\"status\":\"succeeded\",\"workflow\":\"abi-test\",\"limit\":5}", &out);
    v = EXPECT_OK("list filtered", rc, out);
    CHECK(json_array_size(json_object_get(v, "runs")) >= 1, "listed by filter");
    json_decref(v);
    EXPECT_ERROR("cancel: ended run", ferry_run_cancel(e, id, "late", &out), out, FERRY_ECONFLICT, NULL);
    free(id);

    /* Cancel a run waiting at its gate, with and without a reason. */
    for (i = 0; i < 2; i++) {
        rc = ferry_run_start(e, WORKFLOW, "{\"x\":\"c\"}", "{}", &out);
        v = EXPECT_OK("start", rc, out);
        if (v == NULL) return;
        id = run_id_of(v);
        json_decref(v);
        rc = ferry_run_cancel(e, id, i == 0 ? "operator said stop" : NULL, &out);
        json_decref(EXPECT_OK("cancel", rc, out));
        rc = ferry_run_drive(e, id, NULL, &out);
        v = EXPECT_OK("drive after cancel", rc, out);
        CHECK(strcmp(jstr(v, "status"), "cancelled") == 0, "cancelled: %s", jstr(v, "status"));
        json_decref(v);
        free(id);
    }
}

static void test_busy(void) {
    json_t *info = NULL, *v;
    ferry_emulator *emu = emulator_start(
        "{\"faults\":[{\"operation\":\"alibaba.mse.ListMigrationTask\",\"kind\":\"latency\",\"latency_ms\":2500}]}",
        &info);
    char *config, *out = NULL, *id;
    ferry_engine *e;
    struct driver d;
    pthread_t t;
    struct timespec pause = {0, 5 * 1000 * 1000};
    int rc;

    if (emu == NULL) return;
    config = engine_config_for(info, NULL, NULL, NULL);
    e = open_engine(config);
    free(config);
    rc = ferry_run_start(e, SLOW_WORKFLOW, NULL, NULL, &out);
    v = EXPECT_OK("start slow", rc, out);
    if (v == NULL) return;
    id = run_id_of(v);
    json_decref(v);
    d.engine = e;
    d.run_id = id;
    d.out = NULL;
    pthread_create(&t, NULL, drive, &d);
    /* Wait until the driver is inside the slow call (its attempt has started), however slow this machine is. */
    for (;;) {
        json_t *st, *step;
        int in_call;
        out = NULL;
        if (ferry_run_status(e, id, &out) != FERRY_OK) break;
        st = json_loads(out, 0, NULL);
        ferry_free(out);
        step = json_object_get(json_object_get(st, "steps"), "slow");
        in_call = strcmp(jstr(step, "status"), "running") == 0 && json_integer_value(json_object_get(step, "attempts")) >= 1;
        json_decref(st);
        if (in_call) break;
        nanosleep(&pause, NULL);
    }
    EXPECT_ERROR("advance while another caller drives", ferry_run_advance(e, id, NULL, &out), out, FERRY_EBUSY, NULL);
    EXPECT_ERROR("drive while another caller drives", ferry_run_drive(e, id, NULL, &out), out, FERRY_EBUSY, NULL);
    rc = ferry_run_status(e, id, &out);
    json_decref(EXPECT_OK("status while driven", rc, out));
    pthread_join(t, NULL);
    v = EXPECT_OK("the driver finishes", d.rc, d.out);
    CHECK(strcmp(jstr(v, "status"), "succeeded") == 0, "succeeded");
    json_decref(v);
    free(id);
    ferry_engine_close(e);
    ferry_emulator_stop(emu);
    json_decref(info);
}

static void test_hostile_runs(ferry_engine *e) {
    char *out = NULL, *id;
    json_t *v;
    int rc;
    ferry_engine *closed = open_engine(NULL), *fake = (ferry_engine *)0x1234;
    const char *wf = WORKFLOW;

    ferry_engine_close(closed);
    rc = ferry_run_start(e, WORKFLOW, "{\"x\":\"h\"}", NULL, &out);
    v = EXPECT_OK("start", rc, out);
    if (v == NULL) return;
    id = run_id_of(v);
    json_decref(v);

    /* Handles, for every function taking an engine. */
    EXPECT_ERROR("validate: NULL engine", ferry_validate(NULL, wf, &out), out, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("validate: closed engine", ferry_validate(closed, wf, &out), out, FERRY_ECLOSED, "engine");
    EXPECT_ERROR("start: made-up engine", ferry_run_start(fake, wf, NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("start: closed engine", ferry_run_start(closed, wf, NULL, NULL, &out), out, FERRY_ECLOSED, "engine");
    EXPECT_ERROR("advance: NULL engine", ferry_run_advance(NULL, id, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("drive: closed engine", ferry_run_drive(closed, id, NULL, &out), out, FERRY_ECLOSED, "engine");
    EXPECT_ERROR("status: made-up engine", ferry_run_status(fake, id, &out), out, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("list: closed engine", ferry_run_list(closed, NULL, &out), out, FERRY_ECLOSED, "engine");
    EXPECT_ERROR("history: NULL engine", ferry_run_history(NULL, id, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("cancel: closed engine", ferry_run_cancel(closed, id, NULL, &out), out, FERRY_ECLOSED, "engine");
    EXPECT_ERROR("signal: made-up engine", ferry_run_signal(fake, id, "go", NULL, &out), out, FERRY_EINVALID_ARGUMENT,
                 "engine");
    EXPECT_STATUS("status: closed engine, out NULL", ferry_run_status(closed, id, NULL), FERRY_ECLOSED);

    /* Workflow documents. */
    EXPECT_ERROR("validate: NULL workflow", ferry_validate(e, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "workflow");
    EXPECT_ERROR("validate: empty workflow", ferry_validate(e, "", &out), out, FERRY_EINVALID_JSON, "workflow");
    EXPECT_ERROR("validate: malformed", ferry_validate(e, "{\"ferry\":1,", &out), out, FERRY_EINVALID_JSON, "workflow");
    EXPECT_ERROR("validate: YAML text", ferry_validate(e, "ferry: 1\nsteps: []\n", &out), out, FERRY_EINVALID_JSON,
                 "workflow");
    EXPECT_ERROR("validate: invalid UTF-8", ferry_validate(e, "{\"ferry\":1,\"name\":\"\xf0\x9f\"}", &out), out,
                 FERRY_EINVALID_UTF8, "workflow");
    EXPECT_ERROR("validate: no steps", ferry_validate(e, "{\"ferry\":1}", &out), out, FERRY_EINVALID_WORKFLOW, NULL);
    EXPECT_ERROR("validate: array", ferry_validate(e, "[]", &out), out, FERRY_EINVALID_WORKFLOW, NULL);
    EXPECT_ERROR("validate: format 2", ferry_validate(e, "{\"ferry\":2,\"steps\":[{\"id\":\"a\",\"gate\":\"g\"}]}", &out),
                 out, FERRY_EINVALID_WORKFLOW, NULL);
    EXPECT_ERROR("validate: unknown operation", ferry_validate(e,
                 "{\"ferry\":1,\"steps\":[{\"id\":\"a\",\"call\":\"huawei.dcs.Nope\"}]}", &out), out,
                 FERRY_EINVALID_WORKFLOW, NULL);
    EXPECT_ERROR("validate: bad expression", ferry_validate(e,
                 "{\"ferry\":1,\"steps\":[{\"id\":\"a\",\"poll\":\"huawei.dcs.ListMigrationTask\",\"until\":\"a.[\"}]}",
                 &out), out, FERRY_EINVALID_WORKFLOW, NULL);
    EXPECT_ERROR("start: invalid workflow", ferry_run_start(e, "{\"ferry\":1,\"steps\":[]}", NULL, NULL, &out), out,
                 FERRY_EINVALID_WORKFLOW, NULL);
    EXPECT_ERROR("start: NULL workflow", ferry_run_start(e, NULL, NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT,
                 "workflow");

    /* Inputs and options. */
    EXPECT_ERROR("start: malformed inputs", ferry_run_start(e, wf, "{\"x\":", NULL, &out), out, FERRY_EINVALID_JSON,
                 "inputs");
    EXPECT_ERROR("start: missing input", ferry_run_start(e, wf, NULL, NULL, &out), out, FERRY_EMISSING_INPUT, "inputs.x");
    EXPECT_ERROR("start: wrong-typed input", ferry_run_start(e, wf, "{\"x\":5}", NULL, &out), out,
                 FERRY_EINVALID_ARGUMENT, "inputs.x");
    EXPECT_ERROR("start: huge integer input", ferry_run_start(e, wf, "{\"x\":\"a\",\"n\":1e999}", NULL, &out), out,
                 FERRY_EINVALID_JSON, "inputs");
    EXPECT_ERROR("start: unknown input", ferry_run_start(e, wf, "{\"x\":\"a\",\"zz\":1}", NULL, &out), out,
                 FERRY_EINVALID_ARGUMENT, "inputs.zz");
    EXPECT_ERROR("start: options array", ferry_run_start(e, wf, "{\"x\":\"a\"}", "[]", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options");
    EXPECT_ERROR("start: malformed options", ferry_run_start(e, wf, "{\"x\":\"a\"}", "{,}", &out), out,
                 FERRY_EINVALID_JSON, "options");

    /* Run ids. */
    EXPECT_ERROR("advance: NULL run id", ferry_run_advance(e, NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "run_id");
    EXPECT_ERROR("drive: unknown run", ferry_run_drive(e, "run-does-not-exist", NULL, &out), out, FERRY_ENOT_FOUND, NULL);
    EXPECT_ERROR("status: unknown run", ferry_run_status(e, "run-does-not-exist", &out), out, FERRY_ENOT_FOUND, NULL);
    EXPECT_ERROR("status: empty run id", ferry_run_status(e, "", &out), out, FERRY_ENOT_FOUND, NULL);
    EXPECT_ERROR("status: SQL-ish run id", ferry_run_status(e, "x' OR '1'='1", &out), out, FERRY_ENOT_FOUND, NULL);
    EXPECT_ERROR("history: invalid UTF-8 run id", ferry_run_history(e, "run-\xc0\x80", NULL, &out), out,
                 FERRY_EINVALID_UTF8, "run_id");
    EXPECT_ERROR("cancel: NULL run id", ferry_run_cancel(e, NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "run_id");
    EXPECT_ERROR("signal: unknown run", ferry_run_signal(e, "nope", "go", NULL, &out), out, FERRY_ENOT_FOUND, NULL);

    /* Per-function arguments. */
    EXPECT_ERROR("advance: malformed options", ferry_run_advance(e, id, "{", &out), out, FERRY_EINVALID_JSON, "options");
    EXPECT_ERROR("drive: budget string", ferry_run_drive(e, id, "{\"budget_seconds\":\"x\"}", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options.budget_seconds");
    EXPECT_ERROR("drive: budget negative", ferry_run_drive(e, id, "{\"budget_seconds\":-1}", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options.budget_seconds");
    EXPECT_ERROR("list: malformed filter", ferry_run_list(e, "{\"status\"", &out), out, FERRY_EINVALID_JSON, "filter");
    EXPECT_ERROR("list: unknown filter field", ferry_run_list(e, "{\"bogus\":1}", &out), out, FERRY_EINVALID_ARGUMENT,
                 "filter.bogus");
    EXPECT_ERROR("list: limit string", ferry_run_list(e, "{\"limit\":\"10\"}", &out), out, FERRY_EINVALID_ARGUMENT,
                 "filter.limit");
    EXPECT_ERROR("list: limit zero", ferry_run_list(e, "{\"limit\":0}", &out), out, FERRY_EINVALID_ARGUMENT,
                 "filter.limit");
    EXPECT_ERROR("signal: NULL name", ferry_run_signal(e, id, NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "name");
    EXPECT_ERROR("signal: malformed payload", ferry_run_signal(e, id, "go", "{\"a\":}", &out), out, FERRY_EINVALID_JSON,
                 "payload");
    EXPECT_ERROR("signal: invalid UTF-8 name", ferry_run_signal(e, id, "g\xe0\x80\xaf", NULL, &out), out,
                 FERRY_EINVALID_UTF8, "name");
    EXPECT_ERROR("cancel: invalid UTF-8 reason", ferry_run_cancel(e, id, "because \xff", &out), out, FERRY_EINVALID_UTF8,
                 "reason");
    {
        /* Input limits of the engine apply to run arguments too. */
        ferry_engine *small = open_engine("{\"limits\":{\"max_input_bytes\":256,\"max_depth\":4}}");
        EXPECT_ERROR("start: workflow over the engine's max_input_bytes", ferry_run_start(small, wf, NULL, NULL, &out),
                     out, FERRY_ETOO_LARGE, "workflow");
        EXPECT_ERROR("signal: payload over the engine's max_depth", ferry_run_signal(small, id, "go", "[[[[[1]]]]]", &out),
                     out, FERRY_ETOO_LARGE, "payload");
        ferry_engine_close(small);
    }
    /* The run is untouched by all of the above. */
    rc = ferry_run_status(e, id, &out);
    v = EXPECT_OK("status after hostile calls", rc, out);
    CHECK(strcmp(jstr(v, "status"), "running") == 0, "still running: %s", jstr(v, "status"));
    json_decref(v);
    free(id);
}

/*
 * Contract (ferry.h, FERRY_EINVALID_ARGUMENT: "NULL, wrong type, unknown field, bad value"): options objects
 * are checked like the engine config and run filters are, so a typo ("budget_second") is reported instead
 * of silently ignored.
 */
static void test_options_contract(ferry_engine *e) {
    char *out = NULL, *id;
    json_t *v;
    int rc = ferry_run_start(e, WORKFLOW, "{\"x\":\"o\"}", NULL, &out);
    v = EXPECT_OK("start", rc, out);
    if (v == NULL) return;
    id = run_id_of(v);
    json_decref(v);
    EXPECT_ERROR("contract: advance options array", ferry_run_advance(e, id, "[]", &out), out, FERRY_EINVALID_ARGUMENT,
                 "options");
    EXPECT_ERROR("contract: drive options array", ferry_run_drive(e, id, "[1]", &out), out, FERRY_EINVALID_ARGUMENT,
                 "options");
    EXPECT_ERROR("contract: history options array", ferry_run_history(e, id, "[]", &out), out, FERRY_EINVALID_ARGUMENT,
                 "options");
    EXPECT_ERROR("contract: history limit string", ferry_run_history(e, id, "{\"limit\":\"x\"}", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options.limit");
    EXPECT_ERROR("contract: drive unknown option", ferry_run_drive(e, id, "{\"budget_second\":1}", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options.budget_second");
    EXPECT_ERROR("contract: advance unknown option", ferry_run_advance(e, id, "{\"secret\":{}}", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options.secret");
    EXPECT_ERROR("contract: history unknown option", ferry_run_history(e, id, "{\"after\":1}", &out), out,
                 FERRY_EINVALID_ARGUMENT, "options.after");
    EXPECT_ERROR("contract: start unknown option", ferry_run_start(e, WORKFLOW, "{\"x\":\"o\"}", "{\"secret\":{}}", &out),
                 out, FERRY_EINVALID_ARGUMENT, "options.secret");
    EXPECT_ERROR("contract: call unknown option", ferry_call(e, "huawei.dcs.ListMigrationTask", NULL,
                 "{\"reveal_secret\":true}", &out), out, FERRY_EINVALID_ARGUMENT, "options.reveal_secret");
    ferry_run_cancel(e, id, NULL, NULL);
    free(id);
}

void test_runs(void) {
    json_t *info = NULL;
    ferry_emulator *emu = emulator_start("{\"time_scale\":100}", &info);
    char *config;
    ferry_engine *e;
    if (emu == NULL) return;
    config = engine_config_for(info, NULL, NULL, NULL);
    e = open_engine(config);
    free(config);
    if (e != NULL) {
        test_happy_path(e);
        test_hostile_runs(e);
        test_options_contract(e);
        ferry_engine_close(e);
    }
    ferry_emulator_stop(emu);
    json_decref(info);
    test_busy();
}

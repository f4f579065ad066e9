/* The header-only jansson conveniences (ferry_jansson.h): ownership, success and error paths. */
#include "check.h"
#include "ferry_jansson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The conveniences over ops, call, the emulator, validate and runs. */
static void test_jansson_operations_and_runs(void) {
    json_error_t jerr;
    json_t *out = NULL, *info = NULL, *config, *params, *options, *workflow, *inputs, *payload, *bad;
    ferry_emulator *emu = NULL;
    ferry_engine *engine = NULL;
    char *config_text;
    char run_id[128];
    int rc;

    rc = ferry_jansson_ops(NULL, &out, &jerr);
    CHECK(rc == FERRY_OK && json_array_size(out) == 24, "ops catalog");
    json_decref(out);
    rc = ferry_jansson_ops("huawei.dcs.ShowMigrationTask", &out, &jerr);
    CHECK(rc == FERRY_OK && strcmp(jstr(out, "name"), "huawei.dcs.ShowMigrationTask") == 0, "ops entry");
    json_decref(out);
    hostile_cases_inc();
    rc = ferry_jansson_ops("huawei.dcs.Nope", &out, &jerr);
    CHECK(rc == FERRY_ENOT_FOUND && strcmp(jstr(out, "code"), "not_found") == 0, "ops unknown -> error object");
    json_decref(out);

    /* Emulator. */
    config = json_pack("{s:f}", "time_scale", 100.0);
    rc = ferry_jansson_emulator_start(config, &emu, &info, &jerr);
    CHECK(rc == FERRY_OK && emu != NULL && json_is_object(json_object_get(info, "endpoints")), "emulator start");
    CHECK(config->refcount == 1, "config reference untouched");
    json_decref(config);
    if (emu == NULL) return;
    hostile_cases_inc();
    config = json_pack("{s:s}", "port", "eighty");
    rc = ferry_jansson_emulator_start(config, NULL, &out, &jerr);
    CHECK(rc == FERRY_EINVALID_ARGUMENT && json_is_object(out), "emulator start with NULL out_emulator");
    json_decref(out);
    json_decref(config);
    hostile_cases_inc();
    config = json_pack("{s:o}", "access_keys", json_pack("[o]", json_stringn_nocheck("A:\xff", 3)));
    out = json_true();
    rc = ferry_jansson_emulator_start(config, &emu, &out, &jerr);
    CHECK(rc == FERRY_EINVALID_JSON && out == NULL, "unencodable emulator config");
    json_decref(config);

    config_text = engine_config_for(info, NULL, NULL, NULL);
    config = json_loads(config_text, 0, NULL);
    free(config_text);
    rc = ferry_jansson_engine_open(config, &engine, &out, &jerr);
    json_decref(config);
    if (!CHECK(rc == FERRY_OK, "engine for the emulator")) return;

    /* Calls. */
    rc = ferry_jansson_call(engine, "huawei.dcs.ListMigrationTask", NULL, NULL, &out, &jerr);
    CHECK(rc == FERRY_OK && json_is_array(json_object_get(out, "migration_tasks")), "call");
    json_decref(out);
    params = json_pack("{s:s}", "task_id", "missing");
    options = json_pack("{s:b}", "reveal_secrets", 1);
    rc = ferry_jansson_call(engine, "huawei.dcs.ShowMigrationTask", params, options, &out, &jerr);
    CHECK(rc == FERRY_ENOT_FOUND &&
          json_integer_value(json_object_get(json_object_get(out, "details"), "http_status")) == 404,
          "call error object with provider details");
    CHECK(params->refcount == 1 && options->refcount == 1, "argument references untouched");
    json_decref(out);
    json_decref(params);
    json_decref(options);
    hostile_cases_inc();
    bad = json_pack("{s:o}", "task_id", json_stringn_nocheck("\xc0\xaf", 2));
    out = json_true();
    memset(&jerr, 0, sizeof jerr);
    rc = ferry_jansson_call(engine, "huawei.dcs.ShowMigrationTask", bad, NULL, &out, &jerr);
    CHECK(rc == FERRY_EINVALID_JSON && out == NULL && jerr.text[0] != '\0', "unencodable params: %s", jerr.text);
    json_decref(bad);

    /* Workflows and runs. */
    workflow = json_loads("{\"ferry\":1,\"name\":\"jansson\",\"inputs\":{\"x\":{\"type\":\"string\"}},"
                          "\"steps\":[{\"id\":\"l\",\"call\":\"huawei.dcs.ListMigrationTask\"},"
                          "{\"id\":\"g\",\"gate\":\"go\"}],\"outputs\":{\"x\":\"${inputs.x}\"}}", 0, NULL);
    rc = ferry_jansson_validate(engine, workflow, &out, &jerr);
    CHECK(rc == FERRY_OK && json_is_true(json_object_get(out, "valid")), "validate");
    json_decref(out);
    hostile_cases_inc();
    bad = json_pack("{s:i}", "ferry", 1);
    rc = ferry_jansson_validate(engine, bad, &out, &jerr);
    CHECK(rc == FERRY_EINVALID_WORKFLOW && json_is_array(json_object_get(json_object_get(out, "details"), "errors")),
          "invalid workflow -> error object with details.errors");
    json_decref(out);
    json_decref(bad);

    inputs = json_pack("{s:s}", "x", "via jansson");
    rc = ferry_jansson_run_start(engine, workflow, inputs, NULL, &out, &jerr);
    CHECK(rc == FERRY_OK && strlen(jstr(out, "run_id")) > 0, "run start");
    snprintf(run_id, sizeof run_id, "%s", jstr(out, "run_id"));
    json_decref(out);
    rc = ferry_jansson_run_advance(engine, run_id, NULL, &out, &jerr);
    CHECK(rc == FERRY_OK, "advance");
    json_decref(out);
    options = json_pack("{s:i}", "budget_seconds", 30);
    rc = ferry_jansson_run_drive(engine, run_id, options, &out, &jerr);
    CHECK(rc == FERRY_OK && strcmp(jstr(out, "status"), "waiting_gate") == 0, "drive to the gate: %s", jstr(out, "status"));
    json_decref(out);
    hostile_cases_inc();
    payload = json_pack("{s:o}", "by", json_stringn_nocheck("\xff", 1));
    out = json_true();
    rc = ferry_jansson_run_signal(engine, run_id, "go", payload, &out, &jerr);
    CHECK(rc == FERRY_EINVALID_JSON && out == NULL, "unencodable payload");
    json_decref(payload);
    payload = json_pack("{s:s}", "by", "c-tests");
    rc = ferry_jansson_run_signal(engine, run_id, "go", payload, &out, &jerr);
    CHECK(rc == FERRY_OK, "signal");
    json_decref(out);
    json_decref(payload);
    rc = ferry_jansson_run_drive(engine, run_id, options, &out, &jerr);
    CHECK(rc == FERRY_OK && strcmp(jstr(out, "status"), "succeeded") == 0, "drive to the end");
    json_decref(out);
    json_decref(options);
    rc = ferry_jansson_run_status(engine, run_id, &out, &jerr);
    CHECK(rc == FERRY_OK && strcmp(jstr(json_object_get(out, "outputs"), "x"), "via jansson") == 0, "status outputs");
    json_decref(out);
    rc = ferry_jansson_run_history(engine, run_id, NULL, &out, &jerr);
    CHECK(rc == FERRY_OK && json_array_size(json_object_get(out, "events")) > 3, "history");
    json_decref(out);
    options = json_pack("{s:s,s:i}", "workflow", "jansson", "limit", 5);
    rc = ferry_jansson_run_list(engine, options, &out, &jerr);
    CHECK(rc == FERRY_OK && json_array_size(json_object_get(out, "runs")) == 1, "list");
    json_decref(out);
    json_decref(options);
    rc = ferry_jansson_run_start(engine, workflow, inputs, NULL, &out, &jerr);
    snprintf(run_id, sizeof run_id, "%s", jstr(out, "run_id"));
    json_decref(out);
    rc = ferry_jansson_run_cancel(engine, run_id, "no longer needed", &out, &jerr);
    CHECK(rc == FERRY_OK, "cancel");
    json_decref(out);
    hostile_cases_inc();
    rc = ferry_jansson_run_status(engine, "run-nope", &out, &jerr);
    CHECK(rc == FERRY_ENOT_FOUND && strcmp(jstr(out, "code"), "not_found") == 0, "status of unknown run");
    json_decref(out);
    CHECK(workflow->refcount == 1 && inputs->refcount == 1, "argument references untouched");
    json_decref(workflow);
    json_decref(inputs);

    ferry_engine_close(engine);
    CHECK(ferry_emulator_stop(emu) == FERRY_OK, "stop");
    json_decref(info);
}

void test_jansson(void) {
    json_error_t jerr;
    json_t *doc = json_pack("{s:[{s:i},{s:i}], s:s}", "items", "n", 1, "n", 2, "name", "x\xc3\xa9");
    json_t *out = NULL;
    ferry_engine *engine = NULL;

    CHECK(ferry_jansson_query("items[].n", doc, &out, &jerr) == FERRY_OK, "query: %s", jerr.text);
    CHECK(json_is_array(out) && json_array_size(out) == 2 && json_integer_value(json_array_get(out, 1)) == 2,
          "result [1,2]");
    json_decref(out);
    CHECK(ferry_jansson_query("name", doc, &out, NULL) == FERRY_OK && json_is_string(out) &&
          strcmp(json_string_value(out), "x\xc3\xa9") == 0, "unicode round trip");
    json_decref(out);
    CHECK(doc->refcount == 1, "argument reference count untouched");
    CHECK(ferry_jansson_query("items", doc, NULL, NULL) == FERRY_OK, "out = NULL");

    /* Errors come back as json_t objects. */
    CHECK(ferry_jansson_query("items[", doc, &out, &jerr) == FERRY_EINVALID_EXPRESSION, "bad expression");
    CHECK(json_is_object(out) && strcmp(json_string_value(json_object_get(out, "code")), "invalid_expression") == 0,
          "error object");
    json_decref(out);
    hostile_cases_inc();
    CHECK(ferry_jansson_query(NULL, doc, &out, &jerr) == FERRY_EINVALID_ARGUMENT, "NULL expression");
    CHECK(json_is_object(out) && strcmp(json_string_value(json_object_get(json_object_get(out, "details"), "field")),
                                        "expression") == 0, "details.field = expression");
    json_decref(out);
    hostile_cases_inc();
    CHECK(ferry_jansson_query("a", NULL, &out, &jerr) == FERRY_EINVALID_ARGUMENT, "NULL document");
    json_decref(out);
    {
        /* jansson lets a caller build a string with invalid UTF-8 but refuses to encode it: documented as
         * FERRY_EINVALID_JSON with jerr->text explaining, and no reply object. */
        json_t *bad = json_stringn_nocheck("\xff\xfe", 2);
        hostile_cases_inc();
        memset(&jerr, 0, sizeof jerr);
        out = json_true(); /* a static singleton: must be overwritten with NULL */
        CHECK(ferry_jansson_query("@", bad, &out, &jerr) == FERRY_EINVALID_JSON, "invalid UTF-8 via jansson");
        CHECK(out == NULL && jerr.text[0] != '\0', "no reply, jerr explains: %s", jerr.text);
        json_decref(out);
        json_decref(bad);
    }

    /* Engines. */
    CHECK(ferry_jansson_engine_open(NULL, &engine, &out, &jerr) == FERRY_OK && out == NULL, "open NULL config");
    CHECK(ferry_engine_close(engine) == FERRY_OK, "close");
    {
        json_t *config = json_pack("{s:{s:i}}", "limits", "max_depth", 32);
        CHECK(ferry_jansson_engine_open(config, &engine, &out, &jerr) == FERRY_OK, "open with limits");
        CHECK(ferry_engine_close(engine) == FERRY_OK, "close");
        json_decref(config);
        config = json_pack("{s:b}", "unknown_key", 1);
        hostile_cases_inc();
        CHECK(ferry_jansson_engine_open(config, &engine, &out, &jerr) == FERRY_EINVALID_ARGUMENT && engine == NULL,
              "unknown key");
        CHECK(json_is_object(out) && strcmp(json_string_value(json_object_get(out, "code")), "invalid_argument") == 0,
              "error object");
        json_decref(out);
        json_decref(config);
    }
    json_decref(doc);
    test_jansson_operations_and_runs();
}

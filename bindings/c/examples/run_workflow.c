/*
 * run_workflow.c — a C host driving a migration runbook through libferry with jansson:
 * start the emulator in-process, open an engine pointed at it, start a run of the DCS online-migration runbook,
 * drive it, approve its cutover gate, print the outcome.
 *
 *   make -C bindings/c run-workflow
 *   bindings/c/build/run_workflow [RUNBOOK.yaml] [STORE]     (defaults: the DCS runbook, an in-memory store)
 *
 * Against the real cloud: leave out the emulator, put credentials in the engine config (or the environment:
 * HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID) and drop "endpoints".
 *
 * Ownership, as everywhere in ferry_jansson.h: json_t arguments are borrowed; every json_t Ferry hands back
 * through an out parameter is a new reference the caller json_decref()s (the result, or the error object).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry_jansson.h"

/* Prints Ferry's error object {"code", "message", "details"} and releases it. */
static int fail(const char *what, int status, json_t *error) {
    fprintf(stderr, "%s failed: %s (%d): %s\n", what, ferry_error_name(status), status,
            error ? json_string_value(json_object_get(error, "message")) : "(no detail)");
    json_decref(error);
    return 1;
}

/* The whole file as a jansson string: a workflow argument that is a JSON string is read as YAML (or JSON) text. */
static json_t *read_workflow(const char *path) {
    FILE *f = fopen(path, "rb");
    char *text;
    long n;
    json_t *s;
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)n + 1);
    if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        fclose(f);
        return NULL;
    }
    text[n] = '\0';
    fclose(f);
    s = json_stringn(text, (size_t)n);
    free(text);
    return s;
}

int main(int argc, char **argv) {
    const char *runbook = argc > 1 ? argv[1] : "examples/workflows/dcs-online-redis-migration.yaml";
    const char *store = argc > 2 ? argv[2] : ":memory:";
    ferry_emulator *emulator = NULL;
    ferry_engine *engine = NULL;
    json_t *workflow, *info = NULL, *error = NULL, *config, *inputs, *secrets, *options, *status = NULL;
    json_error_t jerr;
    char run_id[160];
    int rc, exit_code = 1, rounds;

    if (ferry_version_number() != FERRY_VERSION_NUMBER) {
        fprintf(stderr, "libferry %s does not match ferry.h %s\n", ferry_version(), FERRY_VERSION);
        return 1;
    }
    workflow = read_workflow(runbook);
    if (workflow == NULL) {
        fprintf(stderr, "cannot read %s\n", runbook);
        return 1;
    }

    /* 1. The emulator, with its phases shortened and its clock at 10x: a two-minute sync takes seconds. */
    config = json_pack("{s:i, s:{s:i, s:i, s:i}}", "time_scale", 10,
                       "timings", "dcs_vm_create_s", 5, "dcs_full_s", 15, "dcs_stop_s", 5);
    rc = ferry_jansson_emulator_start(config, &emulator, &info, &jerr);
    json_decref(config);
    if (rc != FERRY_OK) {
        json_decref(workflow);
        return fail("ferry_emulator_start", rc, info);
    }
    printf("emulator at %s\n", json_string_value(json_object_get(info, "base_url")));

    /* 2. An engine whose endpoints are the emulator's; the emulator's documented test key pair. */
    config = json_pack("{s:s, s:O, s:{s:{s:s, s:s, s:O}}}", "store", store,
                       "endpoints", json_object_get(info, "endpoints"),
                       "credentials", "huawei", "ak", "FERRYTESTKEY", "sk", "ferry-test-secret",
                       "project_id", json_object_get(info, "huawei_project_id"));
    rc = ferry_jansson_engine_open(config, &engine, &error, &jerr);
    json_decref(config);
    if (rc != FERRY_OK) {
        exit_code = fail("ferry_engine_open", rc, error);
        goto done;
    }

    /* 3. Start the run. Secret inputs (the Redis passwords) are never stored; a host that resumes the run later
     *    passes them again in the options of advance/drive. */
    secrets = json_pack("{s:s, s:s}", "source_password", "src-Redis-pw", "target_password", "dst-Redis-pw");
    inputs = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "task_name", "c-host-redis-1", "vpc_id", "vpc-0a1b",
                       "subnet_id", "subnet-7c3d", "security_group_id", "sg-51e2", "source_addrs", "10.0.0.12:6379",
                       "target_instance_id", "dcs-target-01");
    json_object_update(inputs, secrets);
    rc = ferry_jansson_run_start(engine, workflow, inputs, NULL, &status, &jerr);
    json_decref(inputs);
    if (rc != FERRY_OK) {
        json_decref(secrets);
        exit_code = fail("ferry_run_start", rc, status);
        goto done;
    }
    snprintf(run_id, sizeof run_id, "%s", json_string_value(json_object_get(status, "run_id")));
    json_decref(status);
    status = NULL;
    printf("started run %s\n", run_id);

    /* 4. Drive it: each ferry_run_drive call works until the run ends, reaches a gate, or would sleep past the
     *    budget. A gate is approved here as an operator would, with `ferry signal RUN cutover`. */
    options = json_pack("{s:i, s:O}", "budget_seconds", 30, "secrets", secrets);
    json_decref(secrets);
    for (rounds = 0; rounds < 20; rounds++) {
        const char *state;
        rc = ferry_jansson_run_drive(engine, run_id, options, &status, &jerr);
        if (rc != FERRY_OK) {
            exit_code = fail("ferry_run_drive", rc, status);
            status = NULL;
            break;
        }
        state = json_string_value(json_object_get(status, "status"));
        printf("  %-13s at %s\n", state, json_is_string(json_object_get(status, "current_step"))
                                             ? json_string_value(json_object_get(status, "current_step")) : "-");
        if (strcmp(state, "waiting_gate") == 0) {
            const char *gate = json_string_value(json_object_get(json_object_get(status, "waiting_on"), "gate"));
            json_t *payload = json_pack("{s:s}", "approved_by", "run_workflow.c"), *reply = NULL;
            printf("  approving gate '%s'\n", gate);
            rc = ferry_jansson_run_signal(engine, run_id, gate, payload, &reply, &jerr);
            json_decref(payload);
            json_decref(reply);
            if (rc != FERRY_OK) break;
        } else if (strcmp(state, "waiting") != 0 && strcmp(state, "running") != 0) {
            char *outputs = json_dumps(json_object_get(status, "outputs"), JSON_ENCODE_ANY | JSON_SORT_KEYS);
            printf("run %s %s; outputs: %s\n", run_id, state, outputs ? outputs : "null");
            free(outputs);
            exit_code = strcmp(state, "succeeded") == 0 ? 0 : 1;
            break;
        }
        json_decref(status);
        status = NULL;
    }
    json_decref(status);
    json_decref(options);

done:
    if (engine != NULL) ferry_engine_close(engine);
    ferry_emulator_stop(emulator);
    json_decref(info);
    json_decref(workflow);
    return exit_code;
}

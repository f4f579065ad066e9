/*
 * The log hook: install, replace, remove; invalid levels are rejected (see test_hostile.c). Runs and provider
 * calls log, so records are triggered for real: each must be well-formed JSON at or above the requested
 * level and never contain a secret, and a blocking Ferry call made from inside the hook must fail fast with
 * FERRY_EBUSY rather than deadlock.
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "ferry-test-secret"

struct sink {
    pthread_mutex_t lock;
    int records, malformed, below_level, leaked_secret, run_created;
    int blocking_calls, blocking_not_busy, plain_calls, plain_bad;
    int min_level;
    ferry_engine *engine;
    /* Handles the hook tries to close/stop once: both must be refused with FERRY_EBUSY and stay usable. */
    ferry_engine *victim_engine;
    ferry_emulator *victim_emulator;
    int victims_tried, close_rc, stop_rc;
};

static void on_record(void *user_data, int level, const char *record_json) {
    struct sink *s = user_data;
    json_t *r = json_loads(record_json ? record_json : "", 0, NULL);
    int ok = json_is_object(r) && json_is_number(json_object_get(r, "ts")) &&
             json_is_string(json_object_get(r, "level")) && json_is_string(json_object_get(r, "logger")) &&
             json_is_string(json_object_get(r, "message")) && json_is_object(json_object_get(r, "fields"));
    int created = ok && strcmp(jstr(r, "message"), "run created") == 0 &&
                  strlen(jstr(json_object_get(r, "fields"), "run_id")) > 0;
    /* Re-entrant calls: a blocking one must refuse with FERRY_EBUSY; a non-blocking one must not hang. */
    int blocking = ferry_run_status(s->engine, "run-x", NULL);
    int plain = ferry_query("a", "{\"a\":1}", NULL);
    int try_victims = 0;
    pthread_mutex_lock(&s->lock);
    if (s->victim_engine != NULL && !s->victims_tried) try_victims = s->victims_tried = 1;
    pthread_mutex_unlock(&s->lock);
    if (try_victims) {
        s->close_rc = ferry_engine_close(s->victim_engine);
        s->stop_rc = ferry_emulator_stop(s->victim_emulator);
    }
    json_decref(r);
    pthread_mutex_lock(&s->lock);
    s->records++;
    if (!ok) s->malformed++;
    if (level < s->min_level) s->below_level++;
    if (record_json != NULL && strstr(record_json, SECRET) != NULL) s->leaked_secret++;
    if (created) s->run_created++;
    s->blocking_calls++;
    if (blocking != FERRY_EBUSY) s->blocking_not_busy++;
    s->plain_calls++;
    if (plain != FERRY_OK && plain != FERRY_EBUSY) s->plain_bad++;
    pthread_mutex_unlock(&s->lock);
}

static void other_record(void *user_data, int level, const char *record_json) {
    (void)level;
    (void)record_json;
    *(int *)user_data += 1;
}

static const char WF[] = "{\"ferry\":1,\"name\":\"logged\",\"steps\":[{\"id\":\"l\",\"call\":\"huawei.dcs.ListMigrationTask\"}]}";

static void run_once(ferry_engine *e) {
    char *out = NULL;
    json_t *v;
    int rc = ferry_run_start(e, WF, NULL, NULL, &out);
    v = EXPECT_OK("start", rc, out);
    if (v != NULL) {
        rc = ferry_run_drive(e, jstr(v, "run_id"), NULL, &out);
        json_decref(EXPECT_OK("drive", rc, out));
    }
    json_decref(v);
    CHECK(ferry_call(e, "huawei.dcs.ShowMigrationTask", "{\"task_id\":\"missing\"}", NULL, NULL) == FERRY_ENOT_FOUND,
          "a failing call");
}

void test_log_hook(void) {
    struct sink s;
    ferry_engine *e = NULL;
    ferry_emulator *emu;
    json_t *info = NULL;
    char *out = NULL, *config;
    int level, other = 0;

    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    emu = emulator_start(NULL, &info);
    if (emu == NULL) return;
    config = engine_config_for(info, NULL, SECRET, NULL);
    e = open_engine(config);
    free(config);
    if (e == NULL) return;
    s.engine = e;

    for (level = FERRY_LOG_TRACE; level <= FERRY_LOG_OFF; level++) {
        out = (char *)"garbage";
        CHECK(ferry_engine_set_log_hook(e, level, on_record, &s, &out) == FERRY_OK, "install at level %d", level);
        CHECK(out == NULL, "*out_error NULL on success");
    }
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_INFO, other_record, &other, NULL) == FERRY_OK, "replace");
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_INFO, NULL, NULL, NULL) == FERRY_OK, "remove with NULL callback");
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_OFF, on_record, &s, NULL) == FERRY_OK, "remove with FERRY_LOG_OFF");
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_OFF, NULL, NULL, NULL) == FERRY_OK, "remove twice");

    /* Removed: nothing arrives. */
    run_once(e);
    CHECK(s.records == 0 && other == 0, "no records without a hook (%d, %d)", s.records, other);

    /* Above every level the engine uses: nothing arrives either. */
    s.min_level = FERRY_LOG_CRITICAL;
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_CRITICAL, on_record, &s, NULL) == FERRY_OK, "install at CRITICAL");
    run_once(e);
    CHECK(s.records == 0, "no records at CRITICAL (%d)", s.records);

    /* Closing an engine or stopping an emulator from inside the hook is refused and changes nothing. */
    {
        json_t *vinfo = NULL;
        s.victim_engine = open_engine(NULL);
        s.victim_emulator = emulator_start(NULL, &vinfo);
        s.min_level = FERRY_LOG_INFO;
        CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_INFO, on_record, &s, NULL) == FERRY_OK, "install at INFO");
        run_once(e);
        CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_OFF, NULL, NULL, NULL) == FERRY_OK, "remove");
        CHECK(s.victims_tried == 1, "the hook ran");
        CHECK(s.close_rc == FERRY_EBUSY, "ferry_engine_close inside the hook: %d (%s), expected FERRY_EBUSY",
              s.close_rc, ferry_error_name(s.close_rc));
        CHECK(s.stop_rc == FERRY_EBUSY, "ferry_emulator_stop inside the hook: %d (%s), expected FERRY_EBUSY",
              s.stop_rc, ferry_error_name(s.stop_rc));
        CHECK(ferry_engine_close(s.victim_engine) == FERRY_OK, "the engine was still open");
        CHECK(ferry_emulator_stop(s.victim_emulator) == FERRY_OK, "the emulator was still running");
        s.victim_engine = NULL;
        json_decref(vinfo);
        s.records = s.run_created = 0;
    }

    /* At TRACE, a run and calls log; every record is checked in on_record. */
    s.min_level = FERRY_LOG_TRACE;
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_TRACE, on_record, &s, NULL) == FERRY_OK, "install at TRACE");
    run_once(e);
    ferry_query("a", "{\"a\":1}", NULL);
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_OFF, NULL, NULL, NULL) == FERRY_OK, "remove");
    CHECK(ferry_engine_close(e) == FERRY_OK, "close");
    ferry_emulator_stop(emu);
    json_decref(info);

    pthread_mutex_lock(&s.lock);
    CHECK(s.records > 0, "records arrive at TRACE");
    CHECK(s.run_created == 1, "one 'run created' record with fields.run_id, got %d", s.run_created);
    CHECK(s.malformed == 0, "%d malformed records", s.malformed);
    CHECK(s.below_level == 0, "%d records below the level", s.below_level);
    CHECK(s.leaked_secret == 0, "%d records contain the secret key", s.leaked_secret);
    CHECK(s.blocking_not_busy == 0, "%d of %d re-entrant blocking calls did not fail with FERRY_EBUSY",
          s.blocking_not_busy, s.blocking_calls);
    CHECK(s.plain_bad == 0, "%d re-entrant ferry_query calls failed", s.plain_bad);
    pthread_mutex_unlock(&s.lock);
    CHECK(other == 0, "replaced hook never called");
    fprintf(stderr, "log hook: %d records observed\n", s.records);
    pthread_mutex_destroy(&s.lock);
}

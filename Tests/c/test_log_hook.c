/*
 * The log hook: install, replace, remove; invalid levels are rejected (see test_hostile.c). If any function
 * emits records, each must be well-formed JSON at or above the requested level, and a Ferry call made from
 * inside the hook must fail fast with FERRY_EBUSY rather than deadlock.
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct sink {
    pthread_mutex_t lock;
    int records, malformed, below_level, reentrant_calls, reentrant_not_busy;
    int min_level;
};

static void on_record(void *user_data, int level, const char *record_json) {
    struct sink *s = user_data;
    json_t *r = json_loads(record_json ? record_json : "", 0, NULL);
    int ok = json_is_object(r) && json_is_number(json_object_get(r, "ts")) &&
             json_is_string(json_object_get(r, "level")) && json_is_string(json_object_get(r, "logger")) &&
             json_is_string(json_object_get(r, "message")) && json_is_object(json_object_get(r, "fields"));
    ferry_engine *e = NULL;
    int rc = ferry_engine_open(NULL, &e, NULL); /* re-entrant: documented to fail with FERRY_EBUSY */
    if (rc == FERRY_OK) ferry_engine_close(e);
    json_decref(r);
    pthread_mutex_lock(&s->lock);
    s->records++;
    if (!ok) s->malformed++;
    if (level < s->min_level) s->below_level++;
    s->reentrant_calls++;
    if (rc != FERRY_EBUSY) s->reentrant_not_busy++;
    pthread_mutex_unlock(&s->lock);
}

static void other_record(void *user_data, int level, const char *record_json) {
    (void)level;
    (void)record_json;
    *(int *)user_data += 1;
}

void test_log_hook(void) {
    struct sink s;
    ferry_engine *e = NULL;
    char *out = NULL;
    int level, other = 0;

    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    s.min_level = FERRY_LOG_TRACE;
    if (!CHECK(ferry_engine_open(NULL, &e, NULL) == FERRY_OK, "open")) return;

    for (level = FERRY_LOG_TRACE; level <= FERRY_LOG_OFF; level++) {
        out = (char *)"garbage";
        CHECK(ferry_engine_set_log_hook(e, level, on_record, &s, &out) == FERRY_OK, "install at level %d", level);
        CHECK(out == NULL, "*out_error NULL on success");
    }
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_INFO, other_record, &other, NULL) == FERRY_OK, "replace");
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_INFO, NULL, NULL, NULL) == FERRY_OK, "remove with NULL callback");
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_OFF, on_record, &s, NULL) == FERRY_OK, "remove with FERRY_LOG_OFF");
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_OFF, NULL, NULL, NULL) == FERRY_OK, "remove twice");

    /* Install at TRACE and exercise the engine: whatever is logged must be well-formed. */
    CHECK(ferry_engine_set_log_hook(e, FERRY_LOG_TRACE, on_record, &s, NULL) == FERRY_OK, "install at TRACE");
    ferry_query("a", "{\"a\":1}", NULL);
    ferry_query("a[", "{}", NULL);
    CHECK(ferry_engine_close(e) == FERRY_OK, "close with a hook installed");

    pthread_mutex_lock(&s.lock);
    CHECK(s.malformed == 0, "%d malformed records", s.malformed);
    CHECK(s.below_level == 0, "%d records below the level", s.below_level);
    CHECK(s.reentrant_not_busy == 0, "%d re-entrant calls did not fail with FERRY_EBUSY", s.reentrant_not_busy);
    pthread_mutex_unlock(&s.lock);
    CHECK(other == 0, "replaced hook never called after removal");
    fprintf(stderr, "log hook: %d records observed\n", s.records);
    pthread_mutex_destroy(&s.lock);
}

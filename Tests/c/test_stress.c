/*
 * Concurrency: FERRY_STRESS_THREADS (default 64) threads for FERRY_STRESS_SECONDS (default 10) seconds, each
 * querying, failing on purpose, installing/removing log hooks on one shared engine and on its own engines,
 * and opening/closing engines. Every result is checked; a watchdog turns a deadlock into a failure.
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static ferry_engine *shared;
static char *engine_config; /* points at the stress emulator */
static const char STRESS_WF[] =
    "{\"ferry\":1,\"name\":\"stress\",\"steps\":[{\"id\":\"l\",\"call\":\"huawei.dcs.ListMigrationTask\"}],"
    "\"outputs\":{\"n\":\"${steps.l.output.count}\"}}";
static int stop_flag;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int finished;

static int should_stop(void) {
    int s;
    pthread_mutex_lock(&stop_lock);
    s = stop_flag;
    pthread_mutex_unlock(&stop_lock);
    return s;
}

static void quiet(void *user_data, int level, const char *record_json) {
    (void)user_data;
    (void)level;
    (void)record_json;
}

struct worker {
    int id;
    long iterations;
    int errors;
    char first_error[256];
};

#define FAIL(w, ...)                                                                                        \
    do {                                                                                                    \
        if ((w)->errors++ == 0) snprintf((w)->first_error, sizeof (w)->first_error, __VA_ARGS__);           \
    } while (0)

static void *work(void *arg) {
    struct worker *w = arg;
    ferry_engine *own = NULL;
    char doc[128], want[64], *out;
    int rc;
    long i = 0;

    if (ferry_engine_open(engine_config, &own, NULL) != FERRY_OK) FAIL(w, "open own engine");
    /* At least one full iteration per thread, however late the scheduler starts it. */
    do {
        i++;
        /* A query whose answer depends on the thread and iteration (results must not cross threads). */
        snprintf(doc, sizeof doc, "{\"t\":%d,\"i\":%ld,\"xs\":[%ld,%d]}", w->id, i, i, w->id);
        snprintf(want, sizeof want, "[%d,%ld,%d]", w->id, i, w->id);
        out = NULL;
        rc = ferry_query("[t, i, xs[-1]]", doc, &out);
        if (rc != FERRY_OK || out == NULL || strcmp(out, want) != 0)
            FAIL(w, "query rc=%d got %s want %s", rc, out ? out : "(null)", want);
        ferry_free(out);

        switch (i % 12) {
        case 0:
            out = NULL;
            rc = ferry_query("a", "{\"a\":", &out);
            if (rc != FERRY_EINVALID_JSON || out == NULL || strstr(out, "\"invalid_json\"") == NULL)
                FAIL(w, "bad JSON rc=%d", rc);
            ferry_free(out);
            break;
        case 1:
            if (ferry_query("nope(@)", "{}", NULL) != FERRY_EINVALID_EXPRESSION) FAIL(w, "bad expression");
            break;
        case 2:
            rc = ferry_engine_set_log_hook(shared, (int)(i % 7), quiet, w, NULL);
            if (rc != FERRY_OK) FAIL(w, "shared set_log_hook rc=%d", rc);
            break;
        case 3:
            rc = ferry_engine_set_log_hook(shared, FERRY_LOG_OFF, NULL, NULL, NULL);
            if (rc != FERRY_OK) FAIL(w, "shared remove hook rc=%d", rc);
            break;
        case 4:
            rc = ferry_engine_set_log_hook(own, FERRY_LOG_DEBUG, quiet, NULL, NULL);
            if (rc != FERRY_OK) FAIL(w, "own set_log_hook rc=%d", rc);
            break;
        case 5:
            if (ferry_engine_set_log_hook(shared, 99, quiet, NULL, NULL) != FERRY_EINVALID_ARGUMENT) FAIL(w, "bad level");
            if (strcmp(ferry_error_name(FERRY_ECLOSED), "closed") != 0 || ferry_version_number() != FERRY_VERSION_NUMBER)
                FAIL(w, "static functions");
            break;
        case 6:
            if (i % 64 == 6) {
                /* Replace the own engine; the old handle must then report closed. */
                ferry_engine *old = own;
                if (ferry_engine_close(own) != FERRY_OK) FAIL(w, "close own");
                if (ferry_engine_set_log_hook(old, FERRY_LOG_INFO, NULL, NULL, NULL) != FERRY_ECLOSED) FAIL(w, "use after close");
                own = NULL;
                if (ferry_engine_open(engine_config, &own, NULL) != FERRY_OK) FAIL(w, "reopen own");
            }
            break;
        case 7:
            out = NULL;
            rc = ferry_ops("huawei.dcs.StopMigrationTask", &out);
            if (rc != FERRY_OK || out == NULL || strstr(out, "\"StopMigrationTask\"") == NULL) FAIL(w, "ops rc=%d", rc);
            ferry_free(out);
            if (ferry_ops("nope.nope.Nope", NULL) != FERRY_ENOT_FOUND) FAIL(w, "ops unknown");
            break;
        case 8:
            out = NULL;
            rc = ferry_call(shared, "huawei.dcs.ListMigrationTask", NULL, NULL, &out);
            if (rc != FERRY_OK || out == NULL || strstr(out, "migration_tasks") == NULL)
                FAIL(w, "shared call rc=%d %s", rc, out ? out : "");
            ferry_free(out);
            break;
        case 9:
            rc = ferry_call(own, "huawei.dcs.ShowMigrationTask", "{\"task_id\":\"missing\"}", NULL, NULL);
            if (rc != FERRY_ENOT_FOUND) FAIL(w, "own call rc=%d", rc);
            if (ferry_call(own, "huawei.dcs.ShowMigrationTask", "{}", NULL, NULL) != FERRY_EINVALID_ARGUMENT)
                FAIL(w, "call without task_id");
            break;
        case 10:
            if (i % 48 == 10) {
                /* A whole run on one engine or the other. */
                ferry_engine *e = (i / 48) % 2 ? own : shared;
                json_t *v;
                out = NULL;
                rc = ferry_run_start(e, STRESS_WF, NULL, NULL, &out);
                v = out ? json_loads(out, 0, NULL) : NULL;
                ferry_free(out);
                if (rc != FERRY_OK || v == NULL) {
                    FAIL(w, "run start rc=%d", rc);
                } else {
                    out = NULL;
                    rc = ferry_run_drive(e, jstr(v, "run_id"), NULL, &out);
                    if (rc != FERRY_OK || out == NULL || strstr(out, "\"succeeded\"") == NULL)
                        FAIL(w, "run drive rc=%d %s", rc, out ? out : "");
                    ferry_free(out);
                    if (ferry_run_status(e, jstr(v, "run_id"), NULL) != FERRY_OK) FAIL(w, "run status");
                }
                json_decref(v);
            }
            break;
        case 11:
            if (ferry_validate(shared, STRESS_WF, NULL) != FERRY_OK) FAIL(w, "validate");
            if (ferry_run_status(shared, "run-nope", NULL) != FERRY_ENOT_FOUND) FAIL(w, "status of unknown run");
            break;
        default:
            out = NULL;
            rc = ferry_query("length(@)", "\"\xe6\x97\xa5\xe6\x9c\xac\"", &out);
            if (rc != FERRY_OK || out == NULL || strcmp(out, "2") != 0) FAIL(w, "unicode length rc=%d", rc);
            ferry_free(out);
            break;
        }
    } while (i < 12 || !should_stop());
    if (own != NULL && ferry_engine_close(own) != FERRY_OK) FAIL(w, "final close");
    w->iterations = i;
    pthread_mutex_lock(&done_lock);
    finished++;
    pthread_cond_broadcast(&done_cond);
    pthread_mutex_unlock(&done_lock);
    return NULL;
}

void test_stress(void) {
    long seconds = env_long("FERRY_STRESS_SECONDS", 10);
    long nthreads = env_long("FERRY_STRESS_THREADS", 64);
    struct worker *workers;
    pthread_t *threads;
    struct timespec deadline;
    long i, total = 0, started = 0;
    int all_done;

    if (nthreads < 1) nthreads = 1;
    workers = calloc((size_t)nthreads, sizeof *workers);
    threads = calloc((size_t)nthreads, sizeof *threads);
    if (!CHECK(workers != NULL && threads != NULL, "calloc")) return;
    ferry_emulator *emu;
    json_t *info = NULL;
    emu = emulator_start(NULL, &info);
    if (emu == NULL) return;
    engine_config = engine_config_for(info, NULL, NULL, NULL);
    if (!CHECK(ferry_engine_open(engine_config, &shared, NULL) == FERRY_OK, "open shared engine")) return;

    for (i = 0; i < nthreads; i++) {
        workers[i].id = (int)i;
        if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0) break;
        started++;
    }
    CHECK(started == nthreads, "started %ld of %ld threads", started, nthreads);
    sleep((unsigned)seconds);
    pthread_mutex_lock(&stop_lock);
    stop_flag = 1;
    pthread_mutex_unlock(&stop_lock);

    /* Watchdog: every thread must finish its current call within 60 s of the stop. */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&done_lock);
    while (finished < started) {
        if (pthread_cond_timedwait(&done_cond, &done_lock, &deadline) != 0) break;
    }
    all_done = finished == started;
    pthread_mutex_unlock(&done_lock);
    if (!CHECK(all_done, "deadlock: only %d of %ld threads finished within 60 s of the stop", finished, started)) {
        printf("%d passed, %d failed\n", check_passed(), check_failed());
        fflush(stdout);
        _exit(1); /* the stuck threads cannot be joined */
    }
    for (i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].errors == 0, "thread %ld: %d errors, first: %s", i, workers[i].errors, workers[i].first_error);
        CHECK(workers[i].iterations > 0, "thread %ld made no progress", i);
        total += workers[i].iterations;
    }
    CHECK(ferry_engine_close(shared) == FERRY_OK, "close shared engine");
    CHECK(ferry_emulator_stop(emu) == FERRY_OK, "stop emulator");
    json_decref(info);
    free(engine_config);
    fprintf(stderr, "stress: %ld threads x %ld s, %ld iterations (%.0f/s)\n", started, seconds, total,
            seconds > 0 ? (double)total / (double)seconds : 0.0);
    free(workers);
    free(threads);
}

/* ---- Closing under fire: calls racing a close see FERRY_OK or FERRY_ECLOSED, never anything else ---------- */

struct racer {
    ferry_engine *engine;
    int unexpected, closed_seen, ok_seen, close_ok, close_closed, close_other;
};

static pthread_barrier_t race_start;

static void *use_until_closed(void *arg) {
    struct racer *r = arg;
    long n = 0;
    pthread_barrier_wait(&race_start);
    for (;;) {
        int rc = ferry_engine_set_log_hook(r->engine, FERRY_LOG_INFO, quiet, NULL, NULL);
        n++;
        if (rc == FERRY_OK) r->ok_seen++;
        else if (rc == FERRY_ECLOSED) { r->closed_seen++; break; }
        else { r->unexpected++; break; }
        if (n > 50000000) { r->unexpected++; break; }
    }
    return NULL;
}

static void *close_it(void *arg) {
    struct racer *r = arg;
    int rc;
    pthread_barrier_wait(&race_start);
    rc = ferry_engine_close(r->engine);
    if (rc == FERRY_OK) r->close_ok++;
    else if (rc == FERRY_ECLOSED) r->close_closed++;
    else r->close_other++;
    return NULL;
}

void test_close_races(void) {
    enum { USERS = 8, CLOSERS = 16 };
    pthread_t users[USERS], closers[CLOSERS];
    struct racer ur[USERS], cr[CLOSERS];
    ferry_engine *e = NULL;
    int i, oks = 0, closeds = 0, others = 0;

    /* Many threads close the same engine at once: exactly one succeeds. */
    if (!CHECK(ferry_engine_open(NULL, &e, NULL) == FERRY_OK, "open")) return;
    pthread_barrier_init(&race_start, NULL, CLOSERS);
    memset(cr, 0, sizeof cr);
    for (i = 0; i < CLOSERS; i++) {
        cr[i].engine = e;
        pthread_create(&closers[i], NULL, close_it, &cr[i]);
    }
    for (i = 0; i < CLOSERS; i++) {
        pthread_join(closers[i], NULL);
        oks += cr[i].close_ok;
        closeds += cr[i].close_closed;
        others += cr[i].close_other;
    }
    pthread_barrier_destroy(&race_start);
    CHECK(oks == 1 && closeds == CLOSERS - 1 && others == 0, "concurrent close: %d ok, %d closed, %d other", oks,
          closeds, others);

    /* Threads using an engine while another thread closes it. */
    if (!CHECK(ferry_engine_open(NULL, &e, NULL) == FERRY_OK, "open")) return;
    pthread_barrier_init(&race_start, NULL, USERS + 1);
    memset(ur, 0, sizeof ur);
    for (i = 0; i < USERS; i++) {
        ur[i].engine = e;
        pthread_create(&users[i], NULL, use_until_closed, &ur[i]);
    }
    pthread_barrier_wait(&race_start);
    {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    CHECK(ferry_engine_close(e) == FERRY_OK, "close while in use");
    for (i = 0; i < USERS; i++) {
        pthread_join(users[i], NULL);
        CHECK(ur[i].unexpected == 0 && ur[i].closed_seen == 1, "user %d: %d unexpected statuses", i, ur[i].unexpected);
    }
    pthread_barrier_destroy(&race_start);
}

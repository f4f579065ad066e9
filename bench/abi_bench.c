/*
 * abi_bench.c — the cost of one trivial call through Ferry's C ABI, with two yardsticks:
 *   - a bare C call to a trivial function (local, not inlined) and to ferry_version_number (across the library);
 *   - jansson parsing and printing the same document;
 *   - ferry_query("a", doc) on a ~200-byte document (parse, evaluate, serialize, malloc/free of the result).
 * Prints one JSON object: nanoseconds per call (median over batches), in wall time and (keys *_cpu_ns) in this
 * thread's CPU time, which other processes competing for the cores do not inflate. Built and run by
 * bench/abi_bench.py, or:
 *   cc -std=c99 -O2 -D_POSIX_C_SOURCE=200809L -IInclude bench/abi_bench.c -o /tmp/abi_bench \
 *      -L.build/debug -Wl,-rpath,$PWD/.build/debug -lferry -ljansson && /tmp/abi_bench
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry.h"

static const char DOC[] =
    "{\"a\":1,\"name\":\"ferry-benchmark\",\"id\":\"r-bp1234567890abcdef\",\"status\":\"Running\","
    "\"region\":\"cn-hangzhou\",\"tags\":[\"migration\",\"redis\",\"rocketmq\"],"
    "\"nested\":{\"k\":\"v\",\"n\":[1,2,3,4,5]},\"flag\":true,\"value\":12.5,\"owner\":\"ops-team\"}";

#define BATCHES 31

/* Wall time, and this thread's CPU time (immune to other processes competing for the cores). */
static clockid_t clock_in_use = CLOCK_MONOTONIC;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(clock_in_use, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static volatile int sink;

__attribute__((noinline)) static int trivial(int x) {
    __asm__ volatile("" ::: "memory");
    return x + 1;
}

static void bare_call(void) { sink = trivial(sink); }
static void version_call(void) { sink += ferry_version_number(); }
static void jansson_round_trip(void) {
    json_t *v = json_loads(DOC, 0, NULL);
    char *s = json_dumps(v, JSON_COMPACT);
    sink += (int)strlen(s);
    free(s);
    json_decref(v);
}
static void query_call(void) {
    char *out = NULL;
    sink += ferry_query("a", DOC, &out);
    ferry_free(out);
}

/* Median ns per call of fn over BATCHES batches of n calls (after a warm-up batch). */
static double measure(void (*fn)(void), long n) {
    double per[BATCHES];
    long i;
    int b;
    for (i = 0; i < n; i++) fn();
    for (b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (i = 0; i < n; i++) fn();
        per[b] = (now_ns() - t0) / (double)n;
    }
    qsort(per, BATCHES, sizeof per[0], cmp);
    return per[BATCHES / 2];
}

int main(void) {
    char *out = NULL;
    if (ferry_query("a", DOC, &out) != FERRY_OK || strcmp(out, "1") != 0) {
        fprintf(stderr, "unexpected result %s\n", out ? out : "(null)");
        return 1;
    }
    ferry_free(out);
    printf("{\"document_bytes\": %zu, \"bare_c_call_ns\": %.2f, \"ferry_version_number_ns\": %.2f, "
           "\"jansson_parse_print_ns\": %.1f, \"ferry_query_ns\": %.1f, ",
           strlen(DOC), measure(bare_call, 1000000), measure(version_call, 1000000), measure(jansson_round_trip, 5000),
           measure(query_call, 5000));
    clock_in_use = CLOCK_THREAD_CPUTIME_ID;
    printf("\"bare_c_call_cpu_ns\": %.2f, \"ferry_version_number_cpu_ns\": %.2f, \"jansson_parse_print_cpu_ns\": %.1f, "
           "\"ferry_query_cpu_ns\": %.1f}\n",
           measure(bare_call, 1000000), measure(version_call, 1000000), measure(jansson_round_trip, 5000),
           measure(query_call, 5000));
    return 0;
}

/*
 * Hostile inputs, spread over every function: each must come back as the documented status with a well-formed
 * error JSON {"code", "message", "details"} naming the field at fault, never as a crash.
 */
#include "check.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (100u * 1024u * 1024u) /* 100 MB, over the 64 MiB default limit */
#define DEEP 10000

/* A NUL-terminated buffer of n copies of c, optionally wrapped in quotes. Free with free(). */
static char *filled(size_t n, char c, int quoted) {
    char *p = malloc(n + 3);
    if (p == NULL) return NULL;
    memset(p + (quoted ? 1 : 0), c, n);
    if (quoted) {
        p[0] = '"';
        p[n + 1] = '"';
        p[n + 2] = '\0';
    } else {
        p[n] = '\0';
    }
    return p;
}

/* open/close a throwaway engine; returns the closed handle. */
static ferry_engine *closed_engine(void) {
    ferry_engine *e = NULL;
    CHECK(ferry_engine_open(NULL, &e, NULL) == FERRY_OK, "open");
    CHECK(ferry_engine_close(e) == FERRY_OK, "close");
    return e;
}

static void hostile_query(void) {
    char *out = NULL;
    char *big;

    EXPECT_ERROR("query: expression NULL", ferry_query(NULL, "{}", &out), out, FERRY_EINVALID_ARGUMENT, "expression");
    EXPECT_ERROR("query: document NULL", ferry_query("a", NULL, &out), out, FERRY_EINVALID_ARGUMENT, "document");
    EXPECT_ERROR("query: both NULL", ferry_query(NULL, NULL, &out), out, FERRY_EINVALID_ARGUMENT, "expression");
    EXPECT_STATUS("query: NULL args, out NULL", ferry_query(NULL, NULL, NULL), FERRY_EINVALID_ARGUMENT);
    EXPECT_STATUS("query: bad JSON, out NULL", ferry_query("a", "{", NULL), FERRY_EINVALID_JSON);
    EXPECT_ERROR("query: empty expression", ferry_query("", "{}", &out), out, FERRY_EINVALID_EXPRESSION, NULL);
    EXPECT_ERROR("query: empty document", ferry_query("a", "", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: whitespace document", ferry_query("a", "  \n ", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR_D("query: unterminated object", ferry_query("a", "{\"a\":1", &out), out, FERRY_EINVALID_JSON,
                   "document", "line", 1);
    EXPECT_ERROR_D("query: missing value", ferry_query("a", "{\n\"a\":}", &out), out, FERRY_EINVALID_JSON,
                   "document", "line", 2);
    EXPECT_ERROR("query: trailing garbage", ferry_query("a", "{} x", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: trailing comma", ferry_query("a", "[1,2,]", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: single quotes", ferry_query("a", "{'a':1}", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: NaN", ferry_query("a", "{\"a\":NaN}", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: Infinity", ferry_query("a", "[-Infinity]", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: 1e400 overflows a double", ferry_query("a", "{\"a\":1e400}", &out), out, FERRY_EINVALID_JSON,
                 "document");
    EXPECT_ERROR("query: -1e400", ferry_query("a", "[-1e400]", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: leading zero", ferry_query("a", "[012]", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: raw control char", ferry_query("a", "\"a\x01\"", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: bad escape", ferry_query("a", "\"\\x41\"", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR("query: unterminated string", ferry_query("a", "\"abc", &out), out, FERRY_EINVALID_JSON, "document");
    EXPECT_ERROR_D("query: invalid UTF-8 ff fe", ferry_query("a", "\xff\xfe", &out), out, FERRY_EINVALID_UTF8,
                   "document", "offset", 0);
    EXPECT_ERROR_D("query: truncated multibyte", ferry_query("a", "\"\xe2\x82\"", &out), out, FERRY_EINVALID_UTF8,
                   "document", "offset", 1);
    EXPECT_ERROR_D("query: overlong slash", ferry_query("a", "[\"\xc0\xaf\"]", &out), out, FERRY_EINVALID_UTF8,
                   "document", "offset", 2);
    EXPECT_ERROR_D("query: overlong NUL", ferry_query("a", "\"\xe0\x80\x80\"", &out), out, FERRY_EINVALID_UTF8,
                   "document", "offset", 1);
    EXPECT_ERROR_D("query: UTF-8 surrogate", ferry_query("a", "\"\xed\xa0\x80\"", &out), out, FERRY_EINVALID_UTF8,
                   "document", "offset", 1);
    EXPECT_ERROR_D("query: beyond U+10FFFF", ferry_query("a", "\"\xf4\x90\x80\x80\"", &out), out, FERRY_EINVALID_UTF8,
                   "document", "offset", 1);
    EXPECT_ERROR_D("query: lone continuation", ferry_query("a", "{\"a\":\"\x80\"}", &out), out, FERRY_EINVALID_UTF8,
                   "document", "offset", 6);
    EXPECT_ERROR_D("query: invalid UTF-8 in expression", ferry_query("a\xff", "{}", &out), out, FERRY_EINVALID_UTF8,
                   "expression", "offset", 1);
    EXPECT_ERROR("query: syntax error", ferry_query("a.[", "{}", &out), out, FERRY_EINVALID_EXPRESSION, NULL);
    EXPECT_ERROR("query: unknown function", ferry_query("nope(a)", "{}", &out), out, FERRY_EINVALID_EXPRESSION, NULL);
    EXPECT_ERROR("query: wrong arity", ferry_query("length(a, b)", "{}", &out), out, FERRY_EINVALID_EXPRESSION, NULL);
    EXPECT_ERROR("query: wrong argument type", ferry_query("abs(a)", "{\"a\":\"x\"}", &out), out,
                 FERRY_EEXPRESSION_FAILED, NULL);
    EXPECT_ERROR("query: 1000 unclosed brackets in expression", ferry_query(
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "{}",
        &out), out, FERRY_EINVALID_EXPRESSION, NULL);

    big = filled(BIG, 'a', 1);
    if (CHECK(big != NULL, "malloc 100 MB")) {
        EXPECT_ERROR("query: 100 MB document", ferry_query("a", big, &out), out, FERRY_ETOO_LARGE, "document");
        EXPECT_ERROR("query: 100 MB expression", ferry_query(big, "{}", &out), out, FERRY_ETOO_LARGE, "expression");
        free(big);
    }
    {
        /* A 1,000,000-digit integer is kept exactly (as text), not rejected or rounded. */
        char *digits = filled(1000000, '9', 0);
        if (CHECK(digits != NULL, "malloc")) {
            out = NULL;
            CHECK(ferry_query("@", digits, &out) == FERRY_OK && out != NULL && strcmp(out, digits) == 0,
                  "1,000,000-digit integer round trip");
            ferry_free(out);
            free(digits);
        }
    }
    big = filled(DEEP, '[', 0);
    if (CHECK(big != NULL, "malloc")) {
        EXPECT_ERROR("query: 10000-deep [[[", ferry_query("a", big, &out), out, FERRY_ETOO_LARGE, "document");
        free(big);
    }
    {
        /* {"a":{"a":{"a": ... 10000 levels, closed properly. */
        size_t i, n = 0;
        char *p = malloc(DEEP * 6 + DEEP + 8);
        if (CHECK(p != NULL, "malloc")) {
            for (i = 0; i < DEEP; i++) { memcpy(p + n, "{\"a\":", 5); n += 5; }
            p[n++] = '1';
            for (i = 0; i < DEEP; i++) p[n++] = '}';
            p[n] = '\0';
            EXPECT_ERROR("query: 10000-deep objects", ferry_query("a.a", p, &out), out, FERRY_ETOO_LARGE, "document");
            free(p);
        }
    }
    {
        static char deep[2 * 513 + 1];
        memset(deep, '[', 513);
        memset(deep + 513, ']', 513);
        deep[1026] = '\0';
        EXPECT_ERROR("query: 513 levels", ferry_query("@", deep, &out), out, FERRY_ETOO_LARGE, "document");
    }
}

static void hostile_engine_open(void) {
    ferry_engine *engine = (ferry_engine *)0x1;
    char *err = NULL;
    char *big;

#define OPEN_FAILS(label, config, expected, field)                                                          \
    do {                                                                                                    \
        engine = (ferry_engine *)0x1;                                                                       \
        EXPECT_ERROR(label, ferry_engine_open(config, &engine, &err), err, expected, field);                \
        CHECK(engine == NULL, "%s: *out_engine must be NULL on failure", label);                           \
    } while (0)

    EXPECT_ERROR("open: out_engine NULL", ferry_engine_open("{}", NULL, &err), err, FERRY_EINVALID_ARGUMENT, "out_engine");
    EXPECT_STATUS("open: out_engine NULL, out_error NULL", ferry_engine_open(NULL, NULL, NULL), FERRY_EINVALID_ARGUMENT);
    OPEN_FAILS("open: config array", "[]", FERRY_EINVALID_ARGUMENT, "config");
    OPEN_FAILS("open: config number", "42", FERRY_EINVALID_ARGUMENT, "config");
    OPEN_FAILS("open: config string", "\"store\"", FERRY_EINVALID_ARGUMENT, "config");
    OPEN_FAILS("open: config null", "null", FERRY_EINVALID_ARGUMENT, "config");
    OPEN_FAILS("open: malformed config", "{\"limits\":", FERRY_EINVALID_JSON, "config");
    OPEN_FAILS("open: unknown field", "{\"bogus\":1}", FERRY_EINVALID_ARGUMENT, "config.bogus");
    OPEN_FAILS("open: unknown field among known", "{\"limits\":{},\"Store\":\":memory:\"}", FERRY_EINVALID_ARGUMENT,
               "config.Store");
    OPEN_FAILS("open: limits wrong type", "{\"limits\":5}", FERRY_EINVALID_ARGUMENT, "config.limits");
    OPEN_FAILS("open: max_depth string", "{\"limits\":{\"max_depth\":\"64\"}}", FERRY_EINVALID_ARGUMENT,
               "config.limits.max_depth");
    OPEN_FAILS("open: max_depth zero", "{\"limits\":{\"max_depth\":0}}", FERRY_EINVALID_ARGUMENT, "config.limits.max_depth");
    OPEN_FAILS("open: max_depth huge", "{\"limits\":{\"max_depth\":1e308}}", FERRY_EINVALID_ARGUMENT,
               "config.limits.max_depth");
    OPEN_FAILS("open: max_depth fractional", "{\"limits\":{\"max_depth\":2.5}}", FERRY_EINVALID_ARGUMENT,
               "config.limits.max_depth");
    OPEN_FAILS("open: max_input_bytes negative", "{\"limits\":{\"max_input_bytes\":-1}}", FERRY_EINVALID_ARGUMENT,
               "config.limits.max_input_bytes");
    OPEN_FAILS("open: max_input_bytes 2^100", "{\"limits\":{\"max_input_bytes\":1267650600228229401496703205376}}",
               FERRY_EINVALID_ARGUMENT, "config.limits.max_input_bytes");
    OPEN_FAILS("open: max_input_bytes bool", "{\"limits\":{\"max_input_bytes\":true}}", FERRY_EINVALID_ARGUMENT,
               "config.limits.max_input_bytes");
    OPEN_FAILS("open: unknown limit", "{\"limits\":{\"max_things\":1}}", FERRY_EINVALID_ARGUMENT,
               "config.limits.max_things");
    OPEN_FAILS("open: invalid UTF-8 config", "{\"store\":\"\xff\"}", FERRY_EINVALID_UTF8, "config");
    OPEN_FAILS("open: overlong in key", "{\"\xc1\xbf\":1}", FERRY_EINVALID_UTF8, "config");
    OPEN_FAILS("open: duplicate closing", "{}}", FERRY_EINVALID_JSON, "config");

    big = filled(BIG, ' ', 0);
    if (CHECK(big != NULL, "malloc 100 MB")) {
        big[0] = '{';
        big[BIG - 1] = '}';
        OPEN_FAILS("open: 100 MB config", big, FERRY_ETOO_LARGE, "config");
        free(big);
    }
    big = filled(DEEP + 12, '[', 0);
    if (CHECK(big != NULL, "malloc")) {
        memcpy(big, "{\"runtime\":", 11); /* {"runtime":[[[[... */
        OPEN_FAILS("open: 10000-deep config", big, FERRY_ETOO_LARGE, "config");
        free(big);
    }
    engine = (ferry_engine *)0x1;
    EXPECT_STATUS("open: bad config, out_error NULL", ferry_engine_open("[", &engine, NULL), FERRY_EINVALID_JSON);
    CHECK(engine == NULL, "*out_engine NULL on failure without out_error");
#undef OPEN_FAILS
}

static void hostile_handles(void) {
    char *err = NULL;
    ferry_engine *closed = closed_engine();
    ferry_engine *made_up = (ferry_engine *)0x1234;
    ferry_engine *near_miss = (ferry_engine *)((char *)closed + 1);
    ferry_engine *far = (ferry_engine *)(~(size_t)0 - 15);

    EXPECT_STATUS("close: NULL", ferry_engine_close(NULL), FERRY_EINVALID_ARGUMENT);
    EXPECT_STATUS("close: made-up 0x1234", ferry_engine_close(made_up), FERRY_EINVALID_ARGUMENT);
    EXPECT_STATUS("close: misaligned issued range", ferry_engine_close(near_miss), FERRY_EINVALID_ARGUMENT);
    EXPECT_STATUS("close: highest address", ferry_engine_close(far), FERRY_EINVALID_ARGUMENT);
    EXPECT_STATUS("close: double close", ferry_engine_close(closed), FERRY_ECLOSED);
    EXPECT_STATUS("close: triple close", ferry_engine_close(closed), FERRY_ECLOSED);
    {
        /* A real pointer to something that is not an engine. */
        int not_an_engine = 7;
        EXPECT_STATUS("close: pointer to a stack int", ferry_engine_close((ferry_engine *)&not_an_engine),
                      FERRY_EINVALID_ARGUMENT);
    }

    EXPECT_ERROR("set_log_hook: NULL engine", ferry_engine_set_log_hook(NULL, FERRY_LOG_INFO, NULL, NULL, &err), err,
                 FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("set_log_hook: made-up engine", ferry_engine_set_log_hook(made_up, FERRY_LOG_INFO, NULL, NULL, &err),
                 err, FERRY_EINVALID_ARGUMENT, "engine");
    EXPECT_ERROR("set_log_hook: closed engine", ferry_engine_set_log_hook(closed, FERRY_LOG_INFO, NULL, NULL, &err), err,
                 FERRY_ECLOSED, "engine");
    EXPECT_STATUS("set_log_hook: closed engine, out NULL",
                  ferry_engine_set_log_hook(closed, FERRY_LOG_INFO, NULL, NULL, NULL), FERRY_ECLOSED);
}

static void ignore_record(void *user_data, int level, const char *record_json) {
    (void)user_data;
    (void)level;
    (void)record_json;
}

static void hostile_log_levels(void) {
    char *err = NULL;
    ferry_engine *e = NULL;
    const int bad[] = {-1, 8, 100, INT_MIN, INT_MAX};
    size_t i;
    if (!CHECK(ferry_engine_open(NULL, &e, NULL) == FERRY_OK, "open")) return;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char label[64];
        sprintf(label, "set_log_hook: level %d", bad[i]);
        EXPECT_ERROR(label, ferry_engine_set_log_hook(e, bad[i], ignore_record, NULL, &err), err,
                     FERRY_EINVALID_ARGUMENT, "min_level");
    }
    EXPECT_ERROR("set_log_hook: bad level when removing", ferry_engine_set_log_hook(e, -5, NULL, NULL, &err), err,
                 FERRY_EINVALID_ARGUMENT, "min_level");
    EXPECT_STATUS("set_log_hook: bad level, out NULL", ferry_engine_set_log_hook(e, 9, ignore_record, NULL, NULL),
                  FERRY_EINVALID_ARGUMENT);
    CHECK(ferry_engine_close(e) == FERRY_OK, "close");
}

void test_hostile(void) {
    hostile_query();
    hostile_engine_open();
    hostile_handles();
    hostile_log_levels();
}

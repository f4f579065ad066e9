/*
 * A tiny thread-safe assertion framework for the C test suite. Every CHECK counts as one pass or one failure;
 * the runner prints a final line exactly "N passed, N failed" and exits non-zero when anything failed.
 */
#ifndef FERRY_CHECK_H
#define FERRY_CHECK_H

#include <jansson.h>

#include "ferry.h"

int check_at(int ok, const char *file, int line, const char *expr, const char *fmt, ...);
int check_passed(void);
int check_failed(void);

/* CHECK(condition, printf-format, args...): the format explains a failure. */
#define CHECK(cond, ...) check_at((cond) ? 1 : 0, __FILE__, __LINE__, #cond, __VA_ARGS__)

/*
 * Asserts a failed call: status == expected, and *out is an error JSON object whose "code" is
 * ferry_error_name(expected), with a non-empty "message" and an object "details"; when field is non-NULL,
 * details.field must equal it; when detail_key is non-NULL, details[detail_key] must be the integer
 * detail_value. Frees out. Counts one hostile case.
 */
void expect_error_at(const char *file, int line, const char *label, int status, char *out, int expected,
                     const char *field, const char *detail_key, long long detail_value);
/* The call runs before `out` is read (function arguments have no evaluation order). */
#define EXPECT_ERROR_D(label, call, out, expected, field, key, value)                                      \
    do {                                                                                                    \
        int status_ = (call);                                                                               \
        expect_error_at(__FILE__, __LINE__, label, status_, out, expected, field, key, value);             \
    } while (0)
#define EXPECT_ERROR(label, call, out, expected, field) EXPECT_ERROR_D(label, call, out, expected, field, NULL, 0)

/* Asserts a status-only failure (out == NULL was passed). Counts one hostile case. */
#define EXPECT_STATUS(label, call, expected)                                                               \
    do {                                                                                                    \
        int status_ = (call);                                                                               \
        hostile_cases_inc();                                                                                \
        CHECK(status_ == (expected), "%s: status %d (%s), expected %d (%s)", label, status_,                \
              ferry_error_name(status_), (expected), ferry_error_name(expected));                           \
    } while (0)

/* Asserts success and that *out is JSON equal to expected_json (compared with jansson); frees out. */
void expect_json_at(const char *file, int line, const char *label, int status, char *out, const char *expected_json);
#define EXPECT_JSON(label, call, out, expected)                                                             \
    do {                                                                                                    \
        int status_ = (call);                                                                               \
        expect_json_at(__FILE__, __LINE__, label, status_, out, expected);                                  \
    } while (0)

/* Asserts success and returns *out parsed (a new reference, NULL on failure; json_decref it); frees out. */
json_t *expect_ok_at(const char *file, int line, const char *label, int status, char *out);
#define EXPECT_OK(label, status, out) expect_ok_at(__FILE__, __LINE__, label, status, out)

/* A string member of an object, or "" when absent. */
const char *jstr(const json_t *object, const char *key);

/* Starts an emulator with config_json; *info receives its reply (json_decref it). NULL on failure. */
ferry_emulator *emulator_start(const char *config_json, json_t **info);
/* An engine config (JSON text, free with free()) pointing every service at the emulator, with the key pair
 * key_id/secret (NULL: the emulator's documented default), plus the members of extra_json (may be NULL). */
char *engine_config_for(const json_t *info, const char *key_id, const char *secret, const char *extra_json);
/* Opens an engine with config_json, asserting success; NULL on failure. */
ferry_engine *open_engine(const char *config_json);

int hostile_cases_inc(void);
int hostile_cases(void);

/* Reads a non-negative integer environment variable, or fallback. */
long env_long(const char *name, long fallback);

/* The test groups (one file each). */
void test_basics(void);
void test_hostile(void);
void test_jansson(void);
void test_log_hook(void);
void test_stress(void);
void test_operations(void);
void test_emulator(void);
void test_runs(void);
void test_close_races(void);

#endif

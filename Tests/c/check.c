#include "check.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int passed, failed, hostile;

int check_at(int ok, const char *file, int line, const char *expr, const char *fmt, ...) {
    pthread_mutex_lock(&lock);
    if (ok) {
        passed++;
    } else {
        va_list ap;
        failed++;
        fprintf(stderr, "FAIL %s:%d: %s: ", file, line, expr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

int check_passed(void) {
    int n;
    pthread_mutex_lock(&lock);
    n = passed;
    pthread_mutex_unlock(&lock);
    return n;
}

int check_failed(void) {
    int n;
    pthread_mutex_lock(&lock);
    n = failed;
    pthread_mutex_unlock(&lock);
    return n;
}

int hostile_cases_inc(void) {
    int n;
    pthread_mutex_lock(&lock);
    n = ++hostile;
    pthread_mutex_unlock(&lock);
    return n;
}

int hostile_cases(void) {
    int n;
    pthread_mutex_lock(&lock);
    n = hostile;
    pthread_mutex_unlock(&lock);
    return n;
}

long env_long(const char *name, long fallback) {
    const char *v = getenv(name);
    char *end = NULL;
    long n;
    if (v == NULL || *v == '\0') return fallback;
    n = strtol(v, &end, 10);
    return (end != NULL && *end == '\0' && n >= 0) ? n : fallback;
}

void expect_error_at(const char *file, int line, const char *label, int status, char *out, int expected,
                     const char *field, const char *detail_key, long long detail_value) {
    json_error_t jerr;
    json_t *err, *code, *message, *details, *v;
    hostile_cases_inc();
    if (!check_at(status == expected, file, line, "status == expected", "%s: status %d (%s), expected %d (%s); reply %.300s",
                  label, status, ferry_error_name(status), expected, ferry_error_name(expected), out ? out : "(null)")) {
        ferry_free(out); /* one failure per case: the reply's shape is moot */
        return;
    }
    if (!check_at(out != NULL, file, line, "out != NULL", "%s: no error JSON", label)) return;
    err = json_loads(out, 0, &jerr);
    if (!check_at(json_is_object(err), file, line, "error JSON is an object", "%s: %s (%s)", label, out, jerr.text)) {
        json_decref(err);
        ferry_free(out);
        return;
    }
    code = json_object_get(err, "code");
    message = json_object_get(err, "message");
    details = json_object_get(err, "details");
    check_at(json_is_string(code) && strcmp(json_string_value(code), ferry_error_name(expected)) == 0, file, line,
             "code", "%s: code %s, expected %s", label, json_is_string(code) ? json_string_value(code) : "?",
             ferry_error_name(expected));
    check_at(json_is_string(message) && json_string_length(message) > 0, file, line, "message", "%s: %s", label, out);
    check_at(json_is_object(details), file, line, "details", "%s: %s", label, out);
    if (field != NULL) {
        v = json_object_get(details, "field");
        check_at(json_is_string(v) && strcmp(json_string_value(v), field) == 0, file, line, "details.field",
                 "%s: details.field should be \"%s\": %s", label, field, out);
    }
    if (detail_key != NULL) {
        v = json_object_get(details, detail_key);
        check_at(json_is_integer(v) && json_integer_value(v) == detail_value, file, line, "details value",
                 "%s: details.%s should be %lld: %s", label, detail_key, detail_value, out);
    }
    json_decref(err);
    ferry_free(out);
}

void expect_json_at(const char *file, int line, const char *label, int status, char *out, const char *expected_json) {
    json_error_t jerr;
    json_t *got, *want;
    check_at(status == FERRY_OK, file, line, "status == FERRY_OK", "%s: status %d (%s): %s", label, status,
             ferry_error_name(status), out ? out : "(null)");
    if (!check_at(out != NULL, file, line, "out != NULL", "%s: no result", label)) return;
    got = json_loads(out, JSON_DECODE_ANY, &jerr);
    want = json_loads(expected_json, JSON_DECODE_ANY, NULL);
    check_at(got != NULL && want != NULL && json_equal(got, want), file, line, "result", "%s: got %s, expected %s",
             label, out, expected_json);
    json_decref(got);
    json_decref(want);
    ferry_free(out);
}

json_t *expect_ok_at(const char *file, int line, const char *label, int status, char *out) {
    json_error_t jerr;
    json_t *v = NULL;
    check_at(status == FERRY_OK, file, line, "status == FERRY_OK", "%s: status %d (%s): %s", label, status,
             ferry_error_name(status), out ? out : "(null)");
    if (out != NULL) {
        v = json_loads(out, JSON_DECODE_ANY, &jerr);
        check_at(v != NULL, file, line, "result parses", "%s: %s: %s", label, jerr.text, out);
        ferry_free(out);
    } else {
        check_at(0, file, line, "out != NULL", "%s: no result", label);
    }
    if (status != FERRY_OK) {
        json_decref(v);
        return NULL;
    }
    return v;
}

const char *jstr(const json_t *object, const char *key) {
    const char *s = json_string_value(json_object_get(object, key));
    return s ? s : "";
}

ferry_emulator *emulator_start(const char *config_json, json_t **info) {
    ferry_emulator *emu = NULL;
    char *out = NULL;
    int rc = ferry_emulator_start(config_json, &emu, &out);
    *info = EXPECT_OK("emulator start", rc, out);
    if (*info == NULL) return NULL;
    return emu;
}

char *engine_config_for(const json_t *info, const char *key_id, const char *secret, const char *extra_json) {
    json_t *config = extra_json ? json_loads(extra_json, 0, NULL) : json_object();
    char *text;
    if (key_id == NULL) key_id = "FERRYTESTKEY";
    if (secret == NULL) secret = "ferry-test-secret";
    json_object_set(config, "endpoints", json_object_get(info, "endpoints"));
    json_object_set_new(config, "credentials",
                        json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:s}}", "alibaba", "access_key_id", key_id,
                                  "access_key_secret", secret, "huawei", "ak", key_id, "sk", secret, "project_id",
                                  jstr(info, "huawei_project_id")));
    text = json_dumps(config, JSON_COMPACT);
    json_decref(config);
    return text;
}

ferry_engine *open_engine(const char *config_json) {
    ferry_engine *e = NULL;
    char *err = NULL;
    int rc = ferry_engine_open(config_json, &e, &err);
    CHECK(rc == FERRY_OK, "open engine: %s", err ? err : "");
    ferry_free(err);
    return rc == FERRY_OK ? e : NULL;
}

int main(void) {
    /* Credentials and regions come only from the configs below, never from the caller's environment. */
    const char *env[] = {"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
                         "ALIBABA_CLOUD_REGION_ID", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "CLOUD_SDK_AK",
                         "CLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "CLOUD_SDK_SECURITY_TOKEN",
                         "HUAWEICLOUD_SDK_PROJECT_ID", "CLOUD_SDK_PROJECT_ID", "HUAWEICLOUD_SDK_REGION",
                         "CLOUD_SDK_REGION"};
    size_t i;
    for (i = 0; i < sizeof env / sizeof env[0]; i++) unsetenv(env[i]);

    test_basics();
    test_hostile();
    test_jansson();
    test_operations();
    test_emulator();
    test_runs();
    test_log_hook();
    test_close_races();
    test_stress();
    CHECK(hostile_cases() >= 40, "only %d hostile cases", hostile_cases());
    fprintf(stderr, "hostile cases: %d\n", hostile_cases());
    printf("%d passed, %d failed\n", check_passed(), check_failed());
    return check_failed() == 0 ? 0 : 1;
}

/*
 * ferry.h — the C ABI of libferry, an embeddable workflow engine for cloud migration runbooks.
 *
 * Conventions (in the manner of SQLite and libgit2):
 *  - Every function that can fail returns an int status: FERRY_OK (0) or a negative FERRY_E* code below.
 *    The codes and their names (ferry_error_name) are stable across releases.
 *  - Results and errors come back as UTF-8 JSON through a `char **out` parameter. On success *out holds the
 *    result; on failure it holds {"code": "<name>", "message": "...", "details": {...}}. Passing out = NULL is
 *    allowed (you get the status only). *out is set to NULL first, so it is safe to ferry_free() it afterwards
 *    whatever the status. The caller owns *out and releases it with ferry_free(), never free().
 *  - Input strings are borrowed for the duration of the call and must be NUL-terminated UTF-8. NULL, invalid
 *    UTF-8, malformed JSON, nesting deeper than 512 levels and inputs over 64 MiB (configurable per engine with
 *    "limits") are reported as errors, never crashes.
 *  - Handles (ferry_engine, ferry_emulator) are opaque tokens. Using a closed handle returns FERRY_ECLOSED;
 *    closing twice returns FERRY_ECLOSED; a pointer Ferry never issued returns FERRY_EINVALID_ARGUMENT.
 *
 * Thread safety: every function is thread-safe. One engine may be used from many threads at once; calls on it
 * run concurrently. Blocking calls wait on the calling thread while Ferry's work runs on its own threads.
 *
 * What a host must not do:
 *  - fork() after the first Ferry call and keep using Ferry in the child (the child hangs). Python hosts
 *    using multiprocessing must use the "spawn" or "forkserver" start method.
 *  - Call Ferry functions from inside a Ferry callback (the log hook); such calls fail with FERRY_EBUSY.
 *  - Close an engine while another thread is still calling it and expect that call to succeed (it may fail
 *    with FERRY_ECLOSED or a cancelled/unavailable error; it will not crash).
 */
#ifndef FERRY_H
#define FERRY_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ----------------------------------------------------------------------------------------- */

#define FERRY_VERSION_MAJOR 0
#define FERRY_VERSION_MINOR 1
#define FERRY_VERSION_PATCH 0
#define FERRY_VERSION "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH; compare with ferry_version_number() to detect a header/library mismatch. */
#define FERRY_VERSION_NUMBER (FERRY_VERSION_MAJOR * 10000 + FERRY_VERSION_MINOR * 100 + FERRY_VERSION_PATCH)

/* The library's version string, e.g. "0.1.0". Static storage: do not free. Thread-safe. */
const char *ferry_version(void);

/* The library's FERRY_VERSION_NUMBER. Thread-safe. */
int ferry_version_number(void);

/* ---- Status codes ------------------------------------------------------------------------------------- */

#define FERRY_OK                    0
#define FERRY_EINVALID_JSON        -1   /* an argument is not valid JSON; details: field, line, column, offset */
#define FERRY_EINVALID_ARGUMENT    -2   /* NULL, wrong type, unknown field, bad value; details.field names it */
#define FERRY_ENOT_FOUND           -3   /* no such operation, run, task or resource */
#define FERRY_ECLOSED              -4   /* the handle was closed */
#define FERRY_EINTERNAL            -5   /* a bug in Ferry; please report it with the message */
#define FERRY_ETOO_LARGE           -6   /* input over the size or nesting limit */
#define FERRY_EINVALID_UTF8        -7   /* an argument is not UTF-8; details.offset is the first bad byte */
#define FERRY_EBUSY                -8   /* another caller is advancing the run, or a re-entrant call */
#define FERRY_ETIMEOUT             -9   /* a deadline passed (retryable) */
#define FERRY_ECANCELLED          -10   /* the run or call was cancelled */
#define FERRY_EUNSUPPORTED        -11   /* not supported by this build */
#define FERRY_EINVALID_EXPRESSION -20   /* JMESPath compile error; details.type: syntax | unknown-function | invalid-arity */
#define FERRY_EEXPRESSION_FAILED  -21   /* JMESPath run-time error; details.type: invalid-type | invalid-value */
#define FERRY_ETHROTTLED          -30   /* the provider throttled the call (retryable) */
#define FERRY_EUNAVAILABLE        -31   /* the provider or network is unavailable (retryable) */
#define FERRY_EAUTH_FAILED        -32   /* the provider rejected the credentials or signature */
#define FERRY_EPERMISSION_DENIED  -33   /* the credentials lack a permission */
#define FERRY_ECONFLICT           -34   /* the resource's state forbids the change */
#define FERRY_EPROVIDER_ERROR     -35   /* another provider error; details carry its code, message, request id */
#define FERRY_EMISSING_CREDENTIALS -36  /* no credentials for the provider; the message names what to set */
#define FERRY_EINVALID_WORKFLOW   -50   /* the workflow document is invalid; details.location names the field */
#define FERRY_ERUN_FAILED         -51   /* the run failed */
#define FERRY_ENEEDS_ATTENTION    -52   /* the run stopped because Ferry cannot decide safely; see its evidence */
#define FERRY_EMISSING_INPUT      -53   /* a required (e.g. secret) input was not provided */
#define FERRY_ESTORE_ERROR        -54   /* the run store failed */
#define FERRY_EEMULATOR_ERROR     -70   /* the emulator could not start or stop */

/* The stable name of a status code ("ok", "invalid_json", ...; "unknown" otherwise). Static: do not free. */
const char *ferry_error_name(int status);

/* Releases a string Ferry returned through an out parameter. NULL is ignored. Thread-safe. */
void ferry_free(void *p);

/* ---- Engine ------------------------------------------------------------------------------------------- */

typedef struct ferry_engine ferry_engine;

/*
 * Opens an engine from a JSON config (NULL or "" means {}). Keys, all optional:
 *   "store":       ":memory:" (default) or a SQLite file path holding runs durably;
 *   "credentials": {"alibaba": {"access_key_id", "access_key_secret", "security_token"},
 *                   "huawei":  {"ak", "sk", "security_token", "project_id"}} (else read from the environment);
 *   "regions":     {"alibaba": "cn-hangzhou", "huawei": "cn-north-4"};
 *   "endpoints":   {"huawei.dcs": "http://127.0.0.1:8080", ...} to point a service elsewhere (the emulator);
 *   "http":        {"connect_timeout_ms", "read_timeout_ms", "ca_bundle", "verify_tls"};
 *   "limits":      {"max_input_bytes", "max_depth"}; "runtime": runtime settings.
 * Unknown keys are rejected by name. On success *out_engine receives the handle (close it with
 * ferry_engine_close) and *out_error is NULL; on failure *out_engine is NULL and *out_error holds the error.
 */
int ferry_engine_open(const char *config_json, ferry_engine **out_engine, char **out_error);

/* Closes the engine, releasing its connections and store. A second close returns FERRY_ECLOSED. */
int ferry_engine_close(ferry_engine *engine);

/* Log levels for ferry_engine_set_log_hook. */
#define FERRY_LOG_TRACE    0
#define FERRY_LOG_DEBUG    1
#define FERRY_LOG_INFO     2
#define FERRY_LOG_NOTICE   3
#define FERRY_LOG_WARNING  4
#define FERRY_LOG_ERROR    5
#define FERRY_LOG_CRITICAL 6
#define FERRY_LOG_OFF      7

/*
 * Receives one structured log record: {"ts": unix seconds, "level", "logger", "message", "fields": {...}}.
 * record_json is borrowed and valid only during the call. Secrets are never passed. It may be called from any
 * thread, concurrently; it must not call Ferry functions.
 */
typedef void (*ferry_log_fn)(void *user_data, int level, const char *record_json);

/* Installs (callback non-NULL) or removes (NULL, or FERRY_LOG_OFF) the engine's log hook for records at
 * min_level and above. Silent by default. user_data is passed back unchanged; Ferry does not own it. */
int ferry_engine_set_log_hook(ferry_engine *engine, int min_level, ferry_log_fn callback, void *user_data,
                              char **out_error);

/* ---- JMESPath ----------------------------------------------------------------------------------------- */

/* Evaluates a JMESPath expression over a JSON document; *out receives the result as JSON. Compiled
 * expressions are cached. Thread-safe. */
int ferry_query(const char *expression, const char *document_json, char **out);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_H */

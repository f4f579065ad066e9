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
 *  - Call Ferry functions from inside a Ferry callback (the log hook). Blocking ones (engine close, call,
 *    emulator start/stop, validate and the run functions) fail there with FERRY_EBUSY and change nothing.
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
 * thread, concurrently, including the network event-loop threads that make provider calls; it must not call
 * Ferry functions and should return quickly (hand slow work to a queue): while it runs, the connections served by
 * that thread wait.
 */
typedef void (*ferry_log_fn)(void *user_data, int level, const char *record_json);

/* Installs (callback non-NULL) or removes (NULL, or FERRY_LOG_OFF) the engine's log hook for records at
 * min_level and above. Silent by default. user_data is passed back unchanged; Ferry does not own it. A record
 * already being delivered on another thread may still reach the previous callback just after this returns, so
 * keep the previous callback's user_data valid until ferry_engine_close has returned. */
int ferry_engine_set_log_hook(ferry_engine *engine, int min_level, ferry_log_fn callback, void *user_data,
                              char **out_error);

/* ---- JMESPath ----------------------------------------------------------------------------------------- */

/* Evaluates a JMESPath expression over a JSON document; *out receives the result as JSON. Compiled
 * expressions are cached. Thread-safe. */
int ferry_query(const char *expression, const char *document_json, char **out);


/* ---- Operations catalog and provider calls ------------------------------------------------------------ */

/* With name NULL or "": *out receives the catalog, a JSON array with one summary per operation. With a name
 * such as "huawei.dcs.StopMigrationTask": *out receives that operation's full entry (method, path, parameters
 * with location, type, required-ness and enum, idempotency, secret response fields). Unknown name:
 * FERRY_ENOT_FOUND. Needs no engine. Thread-safe. */
int ferry_ops(const char *name, char **out);

/*
 * Calls one operation, e.g. ferry_call(e, "huawei.dcs.ShowMigrationTask", "{\"task_id\":\"...\"}", NULL, &out).
 * params_json: one object keyed by the wire names of the catalog (path, query and body fields alike); NULL
 * means {}. options_json: NULL or {"reveal_secrets": true} to see response fields the catalog marks secret
 * (masked as "***" otherwise). Parameters are validated before anything is sent. *out receives the response
 * body, or an error whose details carry provider_code, provider_message, http_status, request_id, retryable.
 * Blocks the calling thread until the response or a timeout. Thread-safe.
 */
int ferry_call(ferry_engine *engine, const char *operation, const char *params_json, const char *options_json,
               char **out);

/* ---- Emulator ----------------------------------------------------------------------------------------- */

typedef struct ferry_emulator ferry_emulator;

/*
 * Starts the local emulator of the four APIs on loopback, in this process. config_json (NULL means {}):
 * {"port": 0 (any free port), "access_keys": ["ID:SECRET", ...], "time_scale": 1.0, "faults": [...],
 *  "persist_path": null}. *out receives {"base_url", "port", "endpoints": {service: url}, "access_keys": [ids],
 * "admin_url"}; pass "endpoints" into an engine config to point the engine at it. Stop it with
 * ferry_emulator_stop. Thread-safe.
 */
int ferry_emulator_start(const char *config_json, ferry_emulator **out_emulator, char **out);

/* Stops the emulator and frees the handle. A second stop returns FERRY_ECLOSED. */
int ferry_emulator_stop(ferry_emulator *emulator);

/* ---- Workflows and runs ------------------------------------------------------------------------------- */
/*
 * A run's status JSON: {"run_id", "status": "running" | "waiting" | "waiting_gate" | "succeeded" | "failed" |
 * "cancelled" | "needs_attention", "next_wake_at" (unix seconds or null), "steps": [...], ...}; see
 * docs/workflow-language.md. Only one caller at a time advances a run, also across processes sharing a store
 * file: the other gets FERRY_EBUSY and the run is untouched. All run functions are thread-safe.
 */

/* Validates a workflow document; *out receives {"valid": true, ...} or the FERRY_EINVALID_WORKFLOW error whose
 * details.location names the field (e.g. "steps[3].until"). */
int ferry_validate(ferry_engine *engine, const char *workflow_json, char **out);

/* Starts a run of the workflow with inputs (NULL means {}); options_json may be NULL. Secret inputs are never
 * stored: a run resumed by another process must be given them again through options {"secrets": {...}} on
 * advance/drive. *out receives the run's status. Does not execute any step: call advance or drive. */
int ferry_run_start(ferry_engine *engine, const char *workflow_json, const char *inputs_json,
                    const char *options_json, char **out);

/* Does one unit of work (one attempt or one poll) and returns the status with next_wake_at. */
int ferry_run_advance(ferry_engine *engine, const char *run_id, const char *options_json, char **out);

/* Runs until the run succeeds, fails, waits on a gate, or options {"budget_seconds": N} is spent. */
int ferry_run_drive(ferry_engine *engine, const char *run_id, const char *options_json, char **out);

/* The run's current status. Unknown id: FERRY_ENOT_FOUND. */
int ferry_run_status(ferry_engine *engine, const char *run_id, char **out);

/* Lists runs; filter_json (NULL means {}) may select by status, workflow name and limit. */
int ferry_run_list(ferry_engine *engine, const char *filter_json, char **out);

/* The run's append-only event history; options_json may be NULL. */
int ferry_run_history(ferry_engine *engine, const char *run_id, const char *options_json, char **out);

/* Cancels the run (compensation steps then run on the next advance/drive); reason may be NULL. */
int ferry_run_cancel(ferry_engine *engine, const char *run_id, const char *reason, char **out);

/* Sends the named signal (e.g. a gate's approval) with an optional JSON payload (NULL means null). */
int ferry_run_signal(ferry_engine *engine, const char *run_id, const char *name, const char *payload_json,
                     char **out);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_H */

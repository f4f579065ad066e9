/*
 * ferry_jansson.h — header-only conveniences for C hosts that use jansson: the functions of ferry.h taking
 * and returning json_t* instead of JSON text. Link with -lferry -ljansson.
 *
 * Ownership: json_t* arguments are borrowed (their reference count is untouched). On return, *out holds a NEW
 * reference the caller must json_decref(): the result on FERRY_OK, the error object
 * {"code", "message", "details"} otherwise. *out is NULL only when out was NULL or Ferry's reply could not be
 * parsed, in which case jerr (if non-NULL) holds jansson's own error report and FERRY_EINTERNAL is returned.
 * Arguments that jansson cannot encode yield FERRY_EINVALID_JSON with jerr->text explaining it.
 * Thread safety: as ferry.h; jansson values must not be shared between threads while being modified.
 */
#ifndef FERRY_JANSSON_H
#define FERRY_JANSSON_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Encodes v compactly with full double precision; NULL when v is NULL. Free with free(). */
static inline char *ferry_jansson__dump(const json_t *v, json_error_t *jerr) {
    char *text;
    if (v == NULL) return NULL;
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (text == NULL && jerr != NULL) {
        memset(jerr, 0, sizeof(*jerr));
        strncpy(jerr->text, "jansson could not encode the argument", JSON_ERROR_TEXT_LENGTH - 1);
    }
    return text;
}

/* Turns Ferry's JSON reply into a json_t, releasing the reply. */
static inline int ferry_jansson__finish(int rc, char *reply, json_t **out, json_error_t *jerr) {
    json_t *v = NULL;
    if (reply != NULL) {
        v = json_loads(reply, JSON_DECODE_ANY, jerr);
        ferry_free(reply);
        if (v == NULL) rc = FERRY_EINTERNAL;
    }
    if (out != NULL) *out = v;
    else json_decref(v);
    return rc;
}

/* ferry_engine_open with a json_t config (NULL means {}). */
static inline int ferry_jansson_engine_open(const json_t *config, ferry_engine **out_engine, json_t **out_error,
                                            json_error_t *jerr) {
    char *reply = NULL;
    char *text = ferry_jansson__dump(config, jerr);
    int rc;
    if (out_error != NULL) *out_error = NULL;
    if (config != NULL && text == NULL) {
        if (out_engine != NULL) *out_engine = NULL;
        return FERRY_EINVALID_JSON;
    }
    rc = ferry_engine_open(text, out_engine, &reply);
    free(text);
    return ferry_jansson__finish(rc, reply, out_error, jerr);
}

/* ferry_query over a json_t document. */
static inline int ferry_jansson_query(const char *expression, const json_t *document, json_t **out,
                                      json_error_t *jerr) {
    char *reply = NULL;
    char *text = ferry_jansson__dump(document, jerr);
    int rc;
    if (out != NULL) *out = NULL;
    if (document != NULL && text == NULL) return FERRY_EINVALID_JSON;
    rc = ferry_query(expression, text, &reply);
    free(text);
    return ferry_jansson__finish(rc, reply, out, jerr);
}


/* Dumps up to three optional json_t arguments; on failure frees what it made and returns 0. */
static inline int ferry_jansson__dump3(const json_t *a, char **ta, const json_t *b, char **tb, const json_t *c,
                                       char **tc, json_error_t *jerr) {
    *ta = ferry_jansson__dump(a, jerr);
    *tb = ferry_jansson__dump(b, jerr);
    *tc = ferry_jansson__dump(c, jerr);
    if ((a != NULL && *ta == NULL) || (b != NULL && *tb == NULL) || (c != NULL && *tc == NULL)) {
        free(*ta); free(*tb); free(*tc);
        *ta = *tb = *tc = NULL;
        return 0;
    }
    return 1;
}

/* ferry_ops: the catalog (name NULL) or one operation's entry. */
static inline int ferry_jansson_ops(const char *name, json_t **out, json_error_t *jerr) {
    char *reply = NULL;
    int rc = ferry_ops(name, &reply);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* ferry_call with json_t params and options (either may be NULL). */
static inline int ferry_jansson_call(ferry_engine *engine, const char *operation, const json_t *params,
                                     const json_t *options, json_t **out, json_error_t *jerr) {
    char *tp, *to, *unused, *reply = NULL;
    int rc;
    if (out != NULL) *out = NULL;
    if (!ferry_jansson__dump3(params, &tp, options, &to, NULL, &unused, jerr)) return FERRY_EINVALID_JSON;
    rc = ferry_call(engine, operation, tp, to, &reply);
    free(tp); free(to);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* ferry_emulator_start with a json_t config (NULL means {}); *out receives the ready info. */
static inline int ferry_jansson_emulator_start(const json_t *config, ferry_emulator **out_emulator, json_t **out,
                                               json_error_t *jerr) {
    char *tc, *u1, *u2, *reply = NULL;
    int rc;
    if (out != NULL) *out = NULL;
    if (!ferry_jansson__dump3(config, &tc, NULL, &u1, NULL, &u2, jerr)) return FERRY_EINVALID_JSON;
    rc = ferry_emulator_start(tc, out_emulator, &reply);
    free(tc);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* ferry_validate with a json_t workflow. */
static inline int ferry_jansson_validate(ferry_engine *engine, const json_t *workflow, json_t **out,
                                         json_error_t *jerr) {
    char *tw, *u1, *u2, *reply = NULL;
    int rc;
    if (out != NULL) *out = NULL;
    if (!ferry_jansson__dump3(workflow, &tw, NULL, &u1, NULL, &u2, jerr)) return FERRY_EINVALID_JSON;
    rc = ferry_validate(engine, tw, &reply);
    free(tw);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* ferry_run_start with json_t workflow, inputs and options (inputs and options may be NULL). */
static inline int ferry_jansson_run_start(ferry_engine *engine, const json_t *workflow, const json_t *inputs,
                                          const json_t *options, json_t **out, json_error_t *jerr) {
    char *tw, *ti, *to, *reply = NULL;
    int rc;
    if (out != NULL) *out = NULL;
    if (!ferry_jansson__dump3(workflow, &tw, inputs, &ti, options, &to, jerr)) return FERRY_EINVALID_JSON;
    rc = ferry_run_start(engine, tw, ti, to, &reply);
    free(tw); free(ti); free(to);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* The run functions that take a run id and optional json_t options. */
#define FERRY_JANSSON__RUN_OPTIONS(fn)                                                                          \
    static inline int ferry_jansson_##fn(ferry_engine *engine, const char *run_id, const json_t *options,     \
                                         json_t **out, json_error_t *jerr) {                                  \
        char *to, *u1, *u2, *reply = NULL;                                                                    \
        int rc;                                                                                               \
        if (out != NULL) *out = NULL;                                                                         \
        if (!ferry_jansson__dump3(options, &to, NULL, &u1, NULL, &u2, jerr)) return FERRY_EINVALID_JSON;      \
        rc = ferry_##fn(engine, run_id, to, &reply);                                                          \
        free(to);                                                                                             \
        return ferry_jansson__finish(rc, reply, out, jerr);                                                   \
    }
FERRY_JANSSON__RUN_OPTIONS(run_advance)
FERRY_JANSSON__RUN_OPTIONS(run_drive)
FERRY_JANSSON__RUN_OPTIONS(run_history)
#undef FERRY_JANSSON__RUN_OPTIONS

/* ferry_run_status. */
static inline int ferry_jansson_run_status(ferry_engine *engine, const char *run_id, json_t **out,
                                           json_error_t *jerr) {
    char *reply = NULL;
    int rc = ferry_run_status(engine, run_id, &reply);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* ferry_run_list with a json_t filter (NULL means {}). */
static inline int ferry_jansson_run_list(ferry_engine *engine, const json_t *filter, json_t **out,
                                         json_error_t *jerr) {
    char *tf, *u1, *u2, *reply = NULL;
    int rc;
    if (out != NULL) *out = NULL;
    if (!ferry_jansson__dump3(filter, &tf, NULL, &u1, NULL, &u2, jerr)) return FERRY_EINVALID_JSON;
    rc = ferry_run_list(engine, tf, &reply);
    free(tf);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* ferry_run_cancel (reason may be NULL). */
static inline int ferry_jansson_run_cancel(ferry_engine *engine, const char *run_id, const char *reason,
                                           json_t **out, json_error_t *jerr) {
    char *reply = NULL;
    int rc = ferry_run_cancel(engine, run_id, reason, &reply);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

/* ferry_run_signal with a json_t payload (NULL means null). */
static inline int ferry_jansson_run_signal(ferry_engine *engine, const char *run_id, const char *name,
                                           const json_t *payload, json_t **out, json_error_t *jerr) {
    char *tp, *u1, *u2, *reply = NULL;
    int rc;
    if (out != NULL) *out = NULL;
    if (!ferry_jansson__dump3(payload, &tp, NULL, &u1, NULL, &u2, jerr)) return FERRY_EINVALID_JSON;
    rc = ferry_run_signal(engine, run_id, name, tp, &reply);
    free(tp);
    return ferry_jansson__finish(rc, reply, out, jerr);
}

#ifdef __cplusplus
}
#endif

#endif /* FERRY_JANSSON_H */

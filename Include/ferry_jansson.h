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

#ifdef __cplusplus
}
#endif

#endif /* FERRY_JANSSON_H */

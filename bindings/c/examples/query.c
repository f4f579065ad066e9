/*
 * query.c — the smallest useful Ferry host: open an engine, evaluate a JMESPath expression over a jansson
 * document, print the result, show how an error comes back, close the engine.
 *
 *   make -C bindings/c && bindings/c/build/query 'instances[?status==`Running`].id'
 */
#include <stdio.h>
#include <stdlib.h>

#include "ferry_jansson.h"

/* Prints Ferry's error object {"code", "message", "details"} and releases it. */
static void report(const char *what, int status, json_t *error) {
    fprintf(stderr, "%s failed: status %d (%s): %s\n", what, status, ferry_error_name(status),
            json_string_value(json_object_get(error, "message")));
    json_decref(error);
}

int main(int argc, char **argv) {
    const char *expression = argc > 1 ? argv[1] : "instances[?status=='Running'].id";
    ferry_engine *engine = NULL;
    json_t *document, *result = NULL, *error = NULL;
    json_error_t jerr;
    char *text;
    int status;

    if (ferry_version_number() != FERRY_VERSION_NUMBER) {
        fprintf(stderr, "libferry %s does not match ferry.h %s\n", ferry_version(), FERRY_VERSION);
        return 1;
    }

    status = ferry_jansson_engine_open(NULL, &engine, &error, &jerr);
    if (status != FERRY_OK) {
        report("ferry_engine_open", status, error);
        return 1;
    }

    document = json_pack("{s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}]}", "instances",
                         "id", "r-bp1", "status", "Running",
                         "id", "r-bp2", "status", "Stopped",
                         "id", "r-bp3", "status", "Running");

    /* Success: *out holds a new reference to the result. */
    status = ferry_jansson_query(expression, document, &result, &jerr);
    if (status == FERRY_OK) {
        text = json_dumps(result, JSON_ENCODE_ANY);
        printf("%s => %s\n", expression, text);
        free(text);
        json_decref(result);
    } else {
        report("ferry_query", status, result);
    }

    /* An error: a malformed expression comes back as FERRY_EINVALID_EXPRESSION and an error object. */
    status = ferry_jansson_query("instances[?", document, &error, &jerr);
    if (status != FERRY_OK) {
        text = json_dumps(json_object_get(error, "details"), JSON_COMPACT);
        printf("expected error: %s (%s), details %s\n", ferry_error_name(status),
               json_string_value(json_object_get(error, "message")), text);
        free(text);
        json_decref(error);
    }

    json_decref(document);
    status = ferry_engine_close(engine);
    if (status != FERRY_OK) {
        fprintf(stderr, "ferry_engine_close: %s\n", ferry_error_name(status));
        return 1;
    }
    return 0;
}

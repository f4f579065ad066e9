/* The header-only jansson conveniences (ferry_jansson.h): ownership, success and error paths. */
#include "check.h"
#include "ferry_jansson.h"

#include <string.h>

void test_jansson(void) {
    json_error_t jerr;
    json_t *doc = json_pack("{s:[{s:i},{s:i}], s:s}", "items", "n", 1, "n", 2, "name", "x\xc3\xa9");
    json_t *out = NULL;
    ferry_engine *engine = NULL;

    CHECK(ferry_jansson_query("items[].n", doc, &out, &jerr) == FERRY_OK, "query: %s", jerr.text);
    CHECK(json_is_array(out) && json_array_size(out) == 2 && json_integer_value(json_array_get(out, 1)) == 2,
          "result [1,2]");
    json_decref(out);
    CHECK(ferry_jansson_query("name", doc, &out, NULL) == FERRY_OK && json_is_string(out) &&
          strcmp(json_string_value(out), "x\xc3\xa9") == 0, "unicode round trip");
    json_decref(out);
    CHECK(doc->refcount == 1, "argument reference count untouched");
    CHECK(ferry_jansson_query("items", doc, NULL, NULL) == FERRY_OK, "out = NULL");

    /* Errors come back as json_t objects. */
    CHECK(ferry_jansson_query("items[", doc, &out, &jerr) == FERRY_EINVALID_EXPRESSION, "bad expression");
    CHECK(json_is_object(out) && strcmp(json_string_value(json_object_get(out, "code")), "invalid_expression") == 0,
          "error object");
    json_decref(out);
    hostile_cases_inc();
    CHECK(ferry_jansson_query(NULL, doc, &out, &jerr) == FERRY_EINVALID_ARGUMENT, "NULL expression");
    CHECK(json_is_object(out) && strcmp(json_string_value(json_object_get(json_object_get(out, "details"), "field")),
                                        "expression") == 0, "details.field = expression");
    json_decref(out);
    hostile_cases_inc();
    CHECK(ferry_jansson_query("a", NULL, &out, &jerr) == FERRY_EINVALID_ARGUMENT, "NULL document");
    json_decref(out);
    {
        /* jansson lets a caller build a string with invalid UTF-8 but refuses to encode it: documented as
         * FERRY_EINVALID_JSON with jerr->text explaining, and no reply object. */
        json_t *bad = json_stringn_nocheck("\xff\xfe", 2);
        hostile_cases_inc();
        memset(&jerr, 0, sizeof jerr);
        out = json_true(); /* a static singleton: must be overwritten with NULL */
        CHECK(ferry_jansson_query("@", bad, &out, &jerr) == FERRY_EINVALID_JSON, "invalid UTF-8 via jansson");
        CHECK(out == NULL && jerr.text[0] != '\0', "no reply, jerr explains: %s", jerr.text);
        json_decref(out);
        json_decref(bad);
    }

    /* Engines. */
    CHECK(ferry_jansson_engine_open(NULL, &engine, &out, &jerr) == FERRY_OK && out == NULL, "open NULL config");
    CHECK(ferry_engine_close(engine) == FERRY_OK, "close");
    {
        json_t *config = json_pack("{s:{s:i}}", "limits", "max_depth", 32);
        CHECK(ferry_jansson_engine_open(config, &engine, &out, &jerr) == FERRY_OK, "open with limits");
        CHECK(ferry_engine_close(engine) == FERRY_OK, "close");
        json_decref(config);
        config = json_pack("{s:b}", "unknown_key", 1);
        hostile_cases_inc();
        CHECK(ferry_jansson_engine_open(config, &engine, &out, &jerr) == FERRY_EINVALID_ARGUMENT && engine == NULL,
              "unknown key");
        CHECK(json_is_object(out) && strcmp(json_string_value(json_object_get(out, "code")), "invalid_argument") == 0,
              "error object");
        json_decref(out);
        json_decref(config);
    }
    json_decref(doc);
}

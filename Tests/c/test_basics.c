/* Every exported function on its success path, plus the conventions of ferry.h (out parameters, versions). */
#include "check.h"

#include <stdio.h>
#include <string.h>

static const struct { int status; const char *name; } codes[] = {
    {FERRY_OK, "ok"},
    {FERRY_EINVALID_JSON, "invalid_json"},
    {FERRY_EINVALID_ARGUMENT, "invalid_argument"},
    {FERRY_ENOT_FOUND, "not_found"},
    {FERRY_ECLOSED, "closed"},
    {FERRY_EINTERNAL, "internal"},
    {FERRY_ETOO_LARGE, "too_large"},
    {FERRY_EINVALID_UTF8, "invalid_utf8"},
    {FERRY_EBUSY, "busy"},
    {FERRY_ETIMEOUT, "timeout"},
    {FERRY_ECANCELLED, "cancelled"},
    {FERRY_EUNSUPPORTED, "unsupported"},
    {FERRY_EINVALID_EXPRESSION, "invalid_expression"},
    {FERRY_EEXPRESSION_FAILED, "expression_failed"},
    {FERRY_ETHROTTLED, "throttled"},
    {FERRY_EUNAVAILABLE, "unavailable"},
    {FERRY_EAUTH_FAILED, "auth_failed"},
    {FERRY_EPERMISSION_DENIED, "permission_denied"},
    {FERRY_ECONFLICT, "conflict"},
    {FERRY_EPROVIDER_ERROR, "provider_error"},
    {FERRY_EMISSING_CREDENTIALS, "missing_credentials"},
    {FERRY_EINVALID_WORKFLOW, "invalid_workflow"},
    {FERRY_ERUN_FAILED, "run_failed"},
    {FERRY_ENEEDS_ATTENTION, "needs_attention"},
    {FERRY_EMISSING_INPUT, "missing_input"},
    {FERRY_ESTORE_ERROR, "store_error"},
    {FERRY_EEMULATOR_ERROR, "emulator_error"},
};

static void test_versions(void) {
    CHECK(strcmp(ferry_version(), FERRY_VERSION) == 0, "ferry_version() = %s, header %s", ferry_version(), FERRY_VERSION);
    CHECK(ferry_version_number() == FERRY_VERSION_NUMBER, "ferry_version_number() = %d, header %d",
          ferry_version_number(), FERRY_VERSION_NUMBER);
    CHECK(ferry_version() == ferry_version(), "ferry_version() must return static storage");
}

static void test_error_names(void) {
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(strcmp(ferry_error_name(codes[i].status), codes[i].name) == 0, "ferry_error_name(%d) = %s, expected %s",
              codes[i].status, ferry_error_name(codes[i].status), codes[i].name);
    }
    CHECK(strcmp(ferry_error_name(1), "unknown") == 0, "positive status");
    CHECK(strcmp(ferry_error_name(-12), "unknown") == 0, "gap in the numbering");
    CHECK(strcmp(ferry_error_name(-2147483647 - 1), "unknown") == 0, "INT_MIN");
    CHECK(strcmp(ferry_error_name(2147483647), "unknown") == 0, "INT_MAX");
}

static void test_free(void) {
    char *out = NULL;
    ferry_free(NULL); /* documented no-op */
    CHECK(ferry_query("a", "{\"a\":1}", &out) == FERRY_OK && out != NULL, "query for ferry_free");
    ferry_free(out);
}

static void test_query(void) {
    char *out;
    EXPECT_JSON("field", ferry_query("a", "{\"a\":1}", &out), out, "1");
    EXPECT_JSON("missing field", ferry_query("b", "{\"a\":1}", &out), out, "null");
    EXPECT_JSON("filter", ferry_query("a[?b > `1`].b", "{\"a\":[{\"b\":1},{\"b\":2},{\"b\":3}]}", &out), out, "[2,3]");
    EXPECT_JSON("function", ferry_query("length(@)", "[1,2,3]", &out), out, "3");
    EXPECT_JSON("multiselect", ferry_query("{x: a, y: b}", "{\"a\":\"s\",\"b\":[]}", &out), out, "{\"x\":\"s\",\"y\":[]}");
    EXPECT_JSON("unicode", ferry_query("\"k\\u00e9y\"", "{\"k\xc3\xa9y\":\"\xe6\x97\xa5\xe6\x9c\xac\\ud83d\\ude00\"}", &out),
                out, "\"\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x98\x80\"");
    EXPECT_JSON("scalar document", ferry_query("@", "\"text\"", &out), out, "\"text\"");
    EXPECT_JSON("whitespace", ferry_query("  a  ", " \n\t{ \"a\" : [ true , false , null ] } \n", &out), out,
                "[true,false,null]");
    EXPECT_JSON("floats", ferry_query("a", "{\"a\":[0.5,-1e-7,1.7976931348623157e308]}", &out), out,
                "[0.5,-1e-7,1.7976931348623157e308]");

    /* Integers beyond int64 keep their digits (jansson cannot hold them, so compare text). */
    out = NULL;
    CHECK(ferry_query("a", "{\"a\":123456789012345678901234567890}", &out) == FERRY_OK, "big integer");
    CHECK(out != NULL && strcmp(out, "123456789012345678901234567890") == 0, "big integer text: %s", out ? out : "(null)");
    ferry_free(out);

    /* Depth 512 is the documented maximum and must be accepted. */
    {
        static char deep[2 * 512 + 1];
        memset(deep, '[', 512);
        memset(deep + 512, ']', 512);
        deep[1024] = '\0';
        out = NULL;
        CHECK(ferry_query("length(@)", deep, &out) == FERRY_OK, "512 levels: %s", out ? out : "(null)");
        ferry_free(out);
    }

    /* out = NULL: status only. */
    CHECK(ferry_query("a", "{\"a\":1}", NULL) == FERRY_OK, "query with out = NULL");
    /* *out is overwritten, never read: a garbage initial value is fine. */
    out = (char *)"garbage, not a Ferry string";
    EXPECT_JSON("garbage initial *out", ferry_query("a", "{\"a\":2}", &out), out, "2");
}

static void test_engine(void) {
    ferry_engine *engine = (ferry_engine *)0x1; /* overwritten on success */
    char *err = (char *)"garbage";
    const char *configs[] = {
        NULL, "", "{}", " { } ", "{\"limits\":{\"max_input_bytes\":1048576,\"max_depth\":64}}",
        "{\"limits\":{}}",
    };
    size_t i;
    for (i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        engine = (ferry_engine *)0x1;
        err = (char *)"garbage";
        CHECK(ferry_engine_open(configs[i], &engine, &err) == FERRY_OK, "open with config %s: %s",
              configs[i] ? configs[i] : "NULL", err ? err : "");
        CHECK(err == NULL, "*out_error is NULL on success");
        CHECK(engine != NULL && engine != (ferry_engine *)0x1, "handle returned");
        CHECK(ferry_engine_close(engine) == FERRY_OK, "close");
    }
    /* out_error = NULL is allowed. */
    engine = NULL;
    CHECK(ferry_engine_open("{}", &engine, NULL) == FERRY_OK && engine != NULL, "open with out_error = NULL");
    CHECK(ferry_engine_set_log_hook(engine, FERRY_LOG_OFF, NULL, NULL, NULL) == FERRY_OK, "set_log_hook off, out NULL");
    CHECK(ferry_engine_close(engine) == FERRY_OK, "close");

    /* Many engines at once are independent. */
    {
        ferry_engine *many[32];
        for (i = 0; i < 32; i++) CHECK(ferry_engine_open(NULL, &many[i], NULL) == FERRY_OK, "open #%d", (int)i);
        for (i = 1; i < 32; i++) CHECK(many[i] != many[i - 1], "distinct handles");
        for (i = 0; i < 32; i += 2) CHECK(ferry_engine_close(many[i]) == FERRY_OK, "close even #%d", (int)i);
        for (i = 1; i < 32; i += 2) {
            CHECK(ferry_engine_set_log_hook(many[i], FERRY_LOG_INFO, NULL, NULL, NULL) == FERRY_OK, "odd still open");
            CHECK(ferry_engine_close(many[i]) == FERRY_OK, "close odd #%d", (int)i);
        }
    }
}

void test_basics(void) {
    test_versions();
    test_error_names();
    test_free();
    test_query();
    test_engine();
}

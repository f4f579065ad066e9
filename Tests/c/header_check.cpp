// Both public headers must compile cleanly as C++17 (extern "C", no C-only constructs).
#include "ferry.h"
#include "ferry_jansson.h"

namespace {
[[maybe_unused]] int use_headers() {
    ferry_engine *engine = nullptr;
    json_t *out = nullptr;
    json_error_t jerr;
    int rc = ferry_jansson_engine_open(nullptr, &engine, &out, &jerr);
    if (rc == FERRY_OK) {
        rc = ferry_jansson_query("a", out, &out, &jerr);
        ferry_log_fn fn = [](void *, int, const char *) {};
        rc = ferry_engine_set_log_hook(engine, FERRY_LOG_INFO, fn, nullptr, nullptr);
        rc = ferry_engine_close(engine);
    }
    json_decref(out);
    static_assert(FERRY_VERSION_NUMBER == FERRY_VERSION_MAJOR * 10000 + FERRY_VERSION_MINOR * 100 + FERRY_VERSION_PATCH,
                  "version number");
    return rc + ferry_version_number() + (ferry_version() != nullptr) + (ferry_error_name(0) != nullptr);
}
}  // namespace

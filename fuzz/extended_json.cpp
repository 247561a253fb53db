// libFuzzer target: MongoDB Extended JSON as restore reads a backup line (libbson's
// bson_new_from_json, as sinks/mongo_sink.cpp calls it) and as backup writes it
// (sources/mongo_bson.cpp into a Value, core/json_encode.h's canonical Extended JSON). Every
// document libbson reads must come back the same after our round trip — BSON to Value to
// our Extended JSON to BSON, and Value to BSON — except the deprecated types that
// docs/formats.md says are not kept (symbol, code, undefined, DBPointer, code with scope).
#include <bson/bson.h>

#include "core/json_encode.h"
#include "core/lazy_lib.h"
#include "fuzz/fuzz_support.h"
#include "sources/mongo_source.h"

namespace {

// The canonical Extended JSON of `doc` as libbson writes it.
std::string Canonical(const bson_t* doc) {
  size_t len = 0;
  char* text = bson_as_canonical_extended_json(doc, &len);
  if (!text) return "<not printable>";
  std::string out(text, len);
  bson_free(text);
  return out;
}

bool HasUnkeptType(const std::string& canonical) {
  for (const char* t :
       {"\"$symbol\"", "\"$code\"", "\"$undefined\"", "\"$dbPointer\"", "\"$scope\""})
    if (canonical.find(t) != std::string::npos) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!di::kBsonLibrary.Load().ok()) {
    std::fprintf(stderr, "libbson is not installed (libbson-1.0-0)\n");
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bson_error_t error;
  bson_t* doc = bson_new_from_json(data, static_cast<ssize_t>(size), &error);
  if (!doc) return 0;  // refused: restore reports "a backup line is not Extended JSON"
  const std::string before = Canonical(doc);
  di::Value value = di::BsonToValue(doc);
  bson_destroy(doc);

  const std::string ours = di::ToJson(value, di::JsonStyle::kExtended);
  bson_t* again = bson_new_from_json(reinterpret_cast<const uint8_t*>(ours.data()),
                                     static_cast<ssize_t>(ours.size()), &error);
  di::fuzz::Check(again != nullptr,
                  "our Extended JSON is not read back: " + ours + " (" + error.message + ")");
  const std::string after = Canonical(again);
  bson_destroy(again);

  bson_t* built = bson_new();
  bool appended = true;
  for (const auto& [k, v] : value.as<di::Document>().fields)
    appended = appended && di::AppendBsonValue(built, k, v);
  const std::string rebuilt = Canonical(built);
  bson_destroy(built);

  if (HasUnkeptType(before)) return 0;
  di::fuzz::Check(before == after, "Extended JSON round trip changed the document:\n  " + before +
                                       "\n  " + after + "\n  ours: " + ours);
  di::fuzz::Check(appended && before == rebuilt,
                  "Value to BSON changed the document:\n  " + before + "\n  " + rebuilt);
  return 0;
}

#include "core/lazy_lib.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace di {

constinit LazyLibrary kMongocLibrary("libmongoc-1.0.so.0", "the MongoDB driver", "libmongoc-1.0-0");
constinit LazyLibrary kBsonLibrary("libbson-1.0.so.0", "the MongoDB driver's BSON library",
                                   "libbson-1.0-0");
constinit LazyLibrary kPqLibrary("libpq.so.5", "the PostgreSQL client library", "libpq5");
constinit LazyLibrary kCurlLibrary("libcurl.so.4",
                                   "the HTTP client library (S3 and DynamoDB calls)", "libcurl4");

Status LazyLibrary::Load() {
  std::call_once(once_, [this] {
    handle_ = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = dlerror();
      std::snprintf(error_, sizeof error_, "cannot load %s (%s): %s; install the package %s",
                    soname_, what_, why != nullptr ? why : "unknown error", package_);
    }
  });
  if (handle_ == nullptr) return NotFound(error_);
  return Status::Ok();
}

void* LazyLibrary::Symbol(const char* name) {
  Status loaded = Load();
  if (!loaded.ok()) {
    std::fprintf(stderr, "data-ingestion: %s\n", loaded.message().c_str());
    std::_Exit(70);
  }
  void* address = dlsym(handle_, name);
  if (address == nullptr) {
    std::fprintf(stderr,
                 "data-ingestion: %s (%s) has no function %s: it is older than the version "
                 "this program was built with; upgrade the package %s\n",
                 soname_, what_, name, package_);
    std::_Exit(70);
  }
  return address;
}

}  // namespace di

// A shared library opened on first use instead of at start-up.
//
// The binary is not linked against the heavy client libraries (libmongoc and libbson,
// libpq, libcurl): together with their dependencies (ICU, Kerberos, LDAP, GnuTLS, SASL
// plugins, libmongoc's start-up TLS context) they took ~10 ms to load and relocate before
// main(), on every run, whichever sources it read. core/driver_shims.cpp defines each
// function we call from them; the first call opens the library and binds the function.
// A run that reads only MariaDB into a local backup never loads the other three.
#pragma once

#include <mutex>

#include "core/status.h"

namespace di {

class LazyLibrary {
 public:
  // soname: what dlopen() opens ("libpq.so.5"); what: the library's role for messages;
  // package: the Debian package that installs it.
  constexpr LazyLibrary(const char* soname, const char* what, const char* package)
      : soname_(soname), what_(what), package_(package) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // Opens the library once (thread-safe). An error names the library, the reason and the
  // package to install. Entry points (connecting, the first request) call this so a missing
  // library is an ordinary error of the run.
  Status Load();
  // The address of `name`, opening the library if needed. A library or function that is
  // not there ends the process with the same message (exit code 70): a shim has no way to
  // return an error, and the entry points have already called Load().
  void* Symbol(const char* name);

 private:
  const char* soname_;
  const char* what_;
  const char* package_;
  std::once_flag once_;
  void* handle_ = nullptr;
  char error_[512] = {};
};

// The libraries the shims open.
extern LazyLibrary kMongocLibrary;  // MongoDB driver
extern LazyLibrary kBsonLibrary;    // its BSON library
extern LazyLibrary kPqLibrary;      // PostgreSQL client
extern LazyLibrary kCurlLibrary;    // HTTP client of the AWS calls

}  // namespace di

#pragma once
// Shared by the libFuzzer targets: a finding is a crash, so a broken invariant aborts with
// a message naming it (libFuzzer then saves the input as crash-<sha1>).
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace nodeimg::fuzz {

[[noreturn]] inline void broken(std::string_view invariant) {
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(invariant.size()), invariant.data());
  std::abort();
}

inline void require(bool ok, std::string_view invariant) {
  if (!ok) broken(invariant);
}

}  // namespace nodeimg::fuzz

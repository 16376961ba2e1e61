#pragma once
// The collector's persisted history (/var/lib/nodeimg/state.json): when each image was first
// seen and last used. Versioned JSON, so a future nodeimg can read an older file:
//   {"version": 1, "updatedAt": 1764000000,
//    "images": {"sha256:…": {"firstSeen": 1763900000, "lastUsed": 1763990000}, …}}
// Pure: text in, text out; the adapter writes it atomically.
#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "core/gc/model.hpp"

namespace nodeimg::gc {

inline constexpr int kHistoryVersion = 1;

std::string serialize_history(const History& history, Seconds now);

// A malformed document, a wrong version or a bad entry is an error naming what is wrong
// (the caller moves the file aside and starts afresh).
Result<History> parse_history(std::string_view text);

}  // namespace nodeimg::gc

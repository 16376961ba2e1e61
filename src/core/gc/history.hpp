#pragma once
// The collector's persisted state (/var/lib/nodeimg/state.json): when each image was first
// seen and last used, and the cumulative run totals behind the *_total metrics (counters
// must survive restarts, and the metrics file is rewritten whole on every run). Versioned
// JSON, so a newer nodeimg reads an older file:
//   {"version": 2, "updatedAt": 1764000000,
//    "images": {"sha256:…": {"firstSeen": 1763900000, "lastUsed": 1763990000}, …},
//    "totals": {"runs": {"success": 41, "failure": 1},
//               "removed": {"container": 3, "sandbox": 1, "image": 17},
//               "freedBytes": 123456789, "lastRun": {"finishedAt": 1764000000, "success": true}}}
// Version 1 (no "totals") still loads, with every total at zero.
// Pure: text in, text out; the adapter writes it atomically.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "core/gc/model.hpp"

namespace nodeimg::gc {

inline constexpr int kHistoryVersion = 2;

// Cumulative figures over every non-dry run since the state file was created.
struct RunTotals {
  std::uint64_t runs_success = 0;
  std::uint64_t runs_failure = 0;
  std::uint64_t removed_containers = 0;
  std::uint64_t removed_sandboxes = 0;
  std::uint64_t removed_images = 0;
  std::uint64_t freed_bytes = 0;
  Seconds last_run_finished_at = 0;  // 0: no run recorded
  bool last_run_success = true;
};

struct State {
  History history;
  RunTotals totals;
};

std::string serialize_state(const History& history, const RunTotals& totals, Seconds now);
// A malformed document, an unknown version or a bad entry is an error naming what is wrong
// (the caller moves the file aside and starts afresh).
Result<State> parse_state(std::string_view text);

// The history alone (totals at zero / ignored).
std::string serialize_history(const History& history, Seconds now);
Result<History> parse_history(std::string_view text);

}  // namespace nodeimg::gc

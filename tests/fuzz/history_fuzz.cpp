// The GC history decoder (/var/lib/nodeimg/state.json). Invariant: a malformed file is an
// error value; an accepted one serializes back to a document that decodes to the same
// history (what nodeimg writes, it can read).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/gc/history.hpp"
#include "fuzz_support.hpp"

using nodeimg::fuzz::require;
namespace gc = nodeimg::gc;

namespace {
bool same(const gc::History& a, const gc::History& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
    if (ia->first != ib->first || ia->second.first_seen != ib->second.first_seen ||
        ia->second.last_used != ib->second.last_used)
      return false;
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto history = gc::parse_history(text);
  if (!history) return 0;
  const std::string written = gc::serialize_history(*history, 1'764'000'000);
  auto back = gc::parse_history(written);
  require(back.has_value(), "a serialized history decodes");
  require(same(*history, *back), "a history survives serialize + decode unchanged");
  return 0;
}

#include "adapters/host/history_store.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "core/gc/history.hpp"

namespace nodeimg {

Result<LoadedHistory> HistoryStore::load(bool repair) const {
  LoadedHistory out;
  auto text = files_.read(path_);
  if (!text) {
    out.warnings.push_back(fmt::format("history {} unreadable ({}); starting afresh", files_.host_path(path_), text.error().message));
    return out;
  }
  if (!*text) return out;
  auto parsed = gc::parse_state(**text);
  if (parsed) {
    out.history = std::move(parsed->history);
    out.totals = parsed->totals;
    return out;
  }
  const std::string aside = path_ + ".corrupt";
  std::string moved = "left in place";
  if (!repair) {
    out.warnings.push_back(fmt::format("history {} is corrupt ({}); ignored (the next gc run rebuilds it)",
                                       files_.host_path(path_), parsed.error().message));
    return out;
  }
  if (auto ok = files_.write_atomic(aside, **text, FileOwnership{0600, 0, 0}); ok) {
    if (auto rm = files_.remove(path_); rm) moved = "moved to " + files_.host_path(aside);
  }
  out.warnings.push_back(
      fmt::format("history {} is corrupt ({}); {}; rebuilding it", files_.host_path(path_), parsed.error().message, moved));
  return out;
}

Result<void> HistoryStore::save(const gc::History& history, const gc::RunTotals& totals, gc::Seconds now) const {
  const auto slash = path_.rfind('/');
  if (auto ok = files_.make_directories(path_.substr(0, slash), 0755); !ok) return ok;
  return files_.write_atomic(path_, gc::serialize_state(history, totals, now), FileOwnership{0644, 0, 0});
}

}  // namespace nodeimg

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
  if (!repair) {
    out.warnings.push_back(fmt::format("history {} is corrupt ({}); ignored (the next gc run rebuilds it)",
                                       files_.host_path(path_), parsed.error().message));
    return out;
  }
  out.warnings.push_back(fmt::format("history {} is corrupt ({}); {}; rebuilding it", files_.host_path(path_),
                                     parsed.error().message, move_aside(**text)));
  return out;
}

std::string HistoryStore::move_aside(const std::string& text) const {
  const std::string aside = path_ + ".corrupt";
  auto copied = files_.write_atomic(aside, text, FileOwnership{.mode = 0600, .uid = 0, .gid = 0});
  if (!copied) return "left in place (could not keep a copy: " + copied.error().message + ")";
  if (auto removed = files_.remove(path_); !removed)
    return fmt::format("copied to {} but left in place (could not remove it: {})", files_.host_path(aside),
                       removed.error().message);
  return "moved to " + files_.host_path(aside);
}

Result<void> HistoryStore::save(const gc::History& history, const gc::RunTotals& totals, gc::Seconds now) const {
  const auto slash = path_.rfind('/');
  if (auto ok = files_.make_directories(path_.substr(0, slash), 0755); !ok) return ok;
  // The history is nodeimg's own file: never written through a symlink (it could point
  // anywhere). Said in the history's words rather than the generic ones about kubelet's files.
  if (auto link = files_.read_link(path_); link && *link)
    return fail(fmt::format("write the gc history {}: it is a symlink (to {}); nodeimg keeps its history in a regular "
                            "file: remove the symlink (the history starts afresh) or move the real file there",
                            files_.host_path(path_), **link));
  return files_.write_atomic(path_, gc::serialize_state(history, totals, now),
                             FileOwnership{.mode = 0644, .uid = 0, .gid = 0});
}

}  // namespace nodeimg

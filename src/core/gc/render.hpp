#pragma once
// What `nodeimg gc`, `nodeimg images` and `nodeimg prepull` print and log, as pure
// functions of their results: text for people, JSON (--json), CSV (images --csv) and the
// summary line with its journal fields. The commands only write these out; the metrics
// file is rendered beside them (metrics.hpp).
#include <string>
#include <vector>

#include "core/common/log_fields.hpp"
#include "core/gc/model.hpp"
#include "core/gc/report.hpp"

namespace nodeimg::gc {

// How a table for people is laid out: the terminal's width in columns (0: no limit), and
// -o wide: every column, nothing cut, the long sentence beside each reason code.
struct Layout {
  std::size_t width = 80;
  bool wide = false;
};

// ---- gc ----

// A finished (or dry) run with the plan and policy it carried out.
struct GcOutcome {
  const RunReport& report;
  const Plan& plan;
  const Policy& policy;
};

std::string render_gc_json(const GcOutcome& run);
std::string render_gc_text(const GcOutcome& run, const Layout& layout = {});
LogEntry gc_log_entry(const GcOutcome& run);

// ---- images ----

// One image as `nodeimg images` shows it: what the next gc would do with it, and why.
struct ImageRow {
  const Image* image;
  const Decision* decision;
  std::vector<std::string> users{};  // containers that use it, "name (state)"
};

struct ImagesView {
  std::string runtime{};
  FilesystemUsage usage{};
  Seconds now = 0;
  const Plan* plan = nullptr;
  const Policy* policy = nullptr;
  std::vector<ImageRow> rows{};  // in the order the next gc would consider them: removals first (LRU)
};

// The view of `inventory` under `plan` (the plan of that inventory under `policy`). The
// inventory, plan and policy must outlive the view.
ImagesView images_view(const Inventory& inventory, const Plan& plan, const Policy& policy, std::string runtime, Seconds now);

std::string render_images_json(const ImagesView& view);
std::string render_images_csv(const ImagesView& view);
std::string render_images_text(const ImagesView& view, const Layout& layout = {});

// ---- prepull ----

struct PrepullItem {
  enum class Status { Present, Pending, Pulled, Failed };
  std::string reference{};
  Status status = Status::Pending;
  std::string detail{};  // the image id, or the error
};
std::string_view to_string(PrepullItem::Status s);

// Each reference of prepull:, present (with the id of an image it refers to) or pending.
std::vector<PrepullItem> prepull_items(const std::vector<std::string>& references, const std::vector<Image>& images);

std::string render_prepull_json(const std::vector<PrepullItem>& items);
std::string render_prepull_text(const std::vector<PrepullItem>& items);
LogEntry prepull_log_entry(const std::vector<PrepullItem>& items);

// ---- shared pieces ----

// The threshold situation, said once above a table: "82.0% used >= high 75%: 2.3 GiB to
// free to reach low 65%; next gc: 3 remove (1.0 GiB), 2 remove-if-needed (512.0 MiB)".
std::string situation_text(const Plan& plan, const Policy& policy, const FilesystemUsage& usage);
// A decision's reason code as a table shows it: "lru#3 unused 23d", "in-use", "keep:<rule>".
std::string short_reason(const Decision& d, Seconds now);
// "45s", "12m", "5h", "23d": the largest whole unit.
std::string compact_age(Seconds s);

// "1a2b3c4d5e6f": the first 12 hex digits of an id, without its "sha256:".
std::string short_id(const std::string& id);
// "42.0% used (1.2 GiB free of 10.0 GiB), inodes 3.0% used"
std::string usage_text(const FilesystemUsage& u);
// A CSV field: quoted, with quotes doubled.
std::string csv_quote(const std::string& value);

}  // namespace nodeimg::gc

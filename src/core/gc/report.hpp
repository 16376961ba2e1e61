#pragma once
// What one collection run did, as data: the executor fills it, the command prints it (text,
// JSON, journald fields) and the metrics file is rendered from it. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/gc/model.hpp"

namespace nodeimg::gc {

enum class ObjectKind { Container, Sandbox, Image };
std::string_view to_string(ObjectKind k);

struct Removal {
  ObjectKind kind = ObjectKind::Image;
  std::string id{};
  std::string name{};
  std::uint64_t size = 0;  // images: as the runtime reports it
  Phase phase = Phase::Threshold;
  std::string reason{};
};

// Why a planned removal was not carried out, for machines.
enum class SkipCode {
  CameIntoUse,  // a container started using it after the plan
  LowReached,   // re-measuring showed the pressure relieved: no longer needed
  InUse,        // the runtime refused: in use
  Other,
};
std::string_view to_string(SkipCode c);

struct Skip {
  ObjectKind kind = ObjectKind::Image;
  std::string id{};
  std::string name{};
  std::string reason{};  // "came into use since the plan", "in use (runtime refused)", …
  SkipCode code = SkipCode::Other;
};

struct Failure {
  ObjectKind kind = ObjectKind::Image;
  std::string id{};
  std::string message{};
};

struct RunReport {
  bool dry_run = false;
  std::string runtime{};   // "containerd 1.6.20 (cri unix:///…)"
  std::string endpoint{};  // the endpoint actually probed ("unix:///…"; never "auto")
  Seconds started_at = 0;
  double duration_seconds = 0;
  FilesystemUsage before{};
  FilesystemUsage after{};  // equals `before` on a dry run
  std::size_t images_before = 0;
  // Images left after the run; nullopt when they could not be counted (the runtime was lost).
  std::optional<std::size_t> images_after{};
  std::vector<Removal> removed{};    // on a dry run: what would be removed
  std::vector<Skip> skipped{};       // planned, then not removed (in use, low reached)
  std::vector<Failure> failures{};   // removals the runtime answered with an error (not an outage)
  // The run itself failed, not a removal: the history could not be saved, the images left
  // could not be listed.
  std::vector<std::string> errors{};
  std::vector<Shortfall> shortfalls{};
  std::vector<std::string> warnings{};  // the run went on, but something is worth a look (a failed re-measure)
  bool stopped_at_low = false;     // stopped early: re-measuring showed usage below low
  // false: the runtime could not be reached, or stopped answering during the run; the
  // removals still planned were then not attempted (see `outage`).
  bool runtime_reached = true;
  std::string outage{};  // why the runtime was lost, said once ("" when it answered throughout)

  // Whether the run failed: a removal failed, the runtime was lost, or the run itself failed.
  bool failed() const { return !failures.empty() || !runtime_reached || !errors.empty(); }

  std::size_t count(ObjectKind kind) const;
  std::uint64_t bytes_freed() const;  // from statvfs: available after - before, >= 0
};

}  // namespace nodeimg::gc

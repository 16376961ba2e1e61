#pragma once
// Logging for the command layer: human-readable lines on stderr, or journal entries
// with structured NODEIMG_* fields when stderr is connected to the journal
// (JOURNAL_STREAM matches stderr's device and inode).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

namespace nodeimg::log {

using Fields = std::vector<std::pair<std::string, std::string>>;

// verbosity: 0 = info, 1 = debug, 2+ = trace; quiet: warnings and errors only.
void setup(int verbosity, bool quiet);
bool to_journal();

// One log line with structured fields (NODEIMG_CHANGED=1 ...): journal fields under
// systemd, " key=value" suffixes on a terminal with -v.
void event(spdlog::level::level_enum level, std::string_view message, const Fields& fields = {});

}  // namespace nodeimg::log

#pragma once
// Logging for the command layer: human-readable lines on stderr, or journal entries
// with structured NODEIMG_* fields when stderr is connected to the journal
// (JOURNAL_STREAM matches stderr's device and inode).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/common/log_fields.hpp"

namespace nodeimg::log {

using Fields = LogFields;

// verbosity: 0 = info, 1 = debug, 2+ = trace; quiet: warnings and errors only. On a
// terminal every line is "nodeimg: LEVEL: message", with or without -v (-v adds lines,
// and " key=value" fields to the lines, never a different layout).
void setup(int verbosity, bool quiet);
bool to_journal();

// The messages logged at error level so far, oldest first (what `--json` puts in the
// error document of a command that failed without printing one).
std::vector<std::string> errors_logged();

// One log line with structured fields (NODEIMG_CHANGED=1 ...): journal fields under
// systemd, " key=value" suffixes on a terminal with -v.
void event(spdlog::level::level_enum level, std::string_view message, const Fields& fields = {});
// A rendered entry: error level when it failed, else info.
void event(const LogEntry& entry);

// An audit record (kubelet apply/revert): always sent to the journal with its fields,
// whether or not stderr is connected to it, so an operator's run from a terminal is in
// the trail too; nothing is printed. Adds NODEIMG_INVOCATION_ID from $INVOCATION_ID
// (set by systemd for a unit's processes) when present. A host without journald drops it.
void audit(spdlog::level::level_enum level, std::string_view message, const Fields& fields);

// A command's result that stdout already says: a result is said once. Sent to the journal
// (it is the structured record of the run) and, failed, as an error on stderr; a
// successful result is only repeated on a terminal with -v (debug level).
void result(const LogEntry& entry);

}  // namespace nodeimg::log

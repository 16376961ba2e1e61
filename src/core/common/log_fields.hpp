#pragma once
// Structured fields of a log entry (journal fields under systemd: NODEIMG_COMMAND=gc …).
// The core renders them; the command layer logs them.
#include <string>
#include <vector>

namespace nodeimg {

struct LogField {
  std::string name{};   // NODEIMG_*, upper case
  std::string value{};
};
using LogFields = std::vector<LogField>;

// A summary line and its fields, as one run of a command reports itself.
struct LogEntry {
  bool failed = false;  // logged as an error, else as info
  std::string message{};
  LogFields fields{};
};

}  // namespace nodeimg

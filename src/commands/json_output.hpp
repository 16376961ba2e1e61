#pragma once
// `--json`: stdout carries exactly one JSON document, whatever happens. While a command
// runs, what it writes to std::cout is held back; at the end the document is printed once:
//   - the command's own document, plus "configuration" (the file read, or "defaults") for
//     the commands that change the node, and "exitCode" (and "error", when the command's
//     document has none) when the command failed;
//   - or, when the command failed without printing one (a usage or configuration error, a
//     runtime that cannot be reached), the error document
//     {"schemaVersion": 1, "error": "<what went wrong and what to do>", "exitCode": N}.
// Logs stay on stderr, as without --json.
#include <iosfwd>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace nodeimg {

// The error document (docs/json.md, "Errors").
std::string error_document(const std::string& message, int exit_code, const std::optional<std::string>& configuration);

// The document to print: `printed` (what the command wrote) completed as described above.
// `errors` are the messages logged at error level, oldest first; the last is the one
// reported. A `printed` that is not one JSON object is passed on unchanged.
std::string complete_document(const std::string& printed, int exit_code, const std::vector<std::string>& errors,
                              const std::optional<std::string>& configuration);

// Holds std::cout's output back while alive (when `active`); `finish` prints the document.
class JsonStdout {
 public:
  explicit JsonStdout(bool active);
  ~JsonStdout();
  JsonStdout(const JsonStdout&) = delete;
  JsonStdout& operator=(const JsonStdout&) = delete;
  // `configuration`: set for the commands that change the node.
  void finish(int exit_code, const std::optional<std::string>& configuration);

 private:
  std::ostringstream held_;
  std::streambuf* original_ = nullptr;
};

}  // namespace nodeimg

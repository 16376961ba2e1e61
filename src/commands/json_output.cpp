#include "commands/json_output.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "commands/logging.hpp"

namespace nodeimg {

namespace {

// ordered_json keeps the command's own key order; the keys added here go last.
using Doc = nlohmann::ordered_json;

std::string dump(const Doc& doc) { return doc.dump(2, ' ', false, Doc::error_handler_t::replace) + "\n"; }

}  // namespace

std::string error_document(const std::string& message, int exit_code, const std::optional<std::string>& configuration) {
  Doc doc = {{"schemaVersion", 1}, {"error", message}, {"exitCode", exit_code}};
  if (configuration) doc["configuration"] = *configuration;
  return dump(doc);
}

std::string complete_document(const std::string& printed, int exit_code, const std::vector<std::string>& errors,
                              const std::optional<std::string>& configuration) {
  const std::string last_error = errors.empty() ? std::string() : errors.back();
  if (printed.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (exit_code == 0) return printed;  // a command with nothing to say (none today)
    return error_document(last_error.empty() ? "failed (see the log on stderr)" : last_error, exit_code, configuration);
  }
  Doc doc = Doc::parse(printed, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return printed;
  if (configuration && !doc.contains("configuration")) doc["configuration"] = *configuration;
  if (exit_code != 0) {
    if (!doc.contains("error") && !last_error.empty()) doc["error"] = last_error;
    doc["exitCode"] = exit_code;
  }
  return dump(doc);
}

JsonStdout::JsonStdout(bool active) {
  if (active) original_ = std::cout.rdbuf(held_.rdbuf());
}

JsonStdout::~JsonStdout() {
  if (!original_) return;
  // Reached without finish() only when an exception ends the command: pass on what it wrote.
  std::cout.rdbuf(original_);
  std::cout << held_.str() << std::flush;
}

void JsonStdout::finish(int exit_code, const std::optional<std::string>& configuration) {
  if (!original_) return;
  std::cout.rdbuf(original_);
  original_ = nullptr;
  std::cout << complete_document(held_.str(), exit_code, log::errors_logged(), configuration) << std::flush;
}

}  // namespace nodeimg

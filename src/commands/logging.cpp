#include "commands/logging.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace nodeimg::log {

namespace {

bool journal_mode = false;
bool show_fields = false;

int priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return LOG_DEBUG;
    case spdlog::level::info: return LOG_INFO;
    case spdlog::level::warn: return LOG_WARNING;
    case spdlog::level::err: return LOG_ERR;
    case spdlog::level::critical: return LOG_CRIT;
    default: return LOG_INFO;
  }
}

void journal_send(spdlog::level::level_enum level, std::string_view message, const Fields& fields) {
  std::vector<std::string> strings;
  strings.push_back("MESSAGE=" + std::string(message));
  strings.push_back("PRIORITY=" + std::to_string(priority(level)));
  strings.push_back("SYSLOG_IDENTIFIER=nodeimg");
  for (const auto& [k, v] : fields) strings.push_back(k + "=" + v);
  std::vector<iovec> iov;
  for (auto& s : strings) iov.push_back({s.data(), s.size()});
  sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

// Remembers what was logged at error level, for the error document of --json.
class ErrorRecorder final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level >= spdlog::level::err) messages_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> messages_;
};

std::shared_ptr<ErrorRecorder> recorder = std::make_shared<ErrorRecorder>();

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    journal_send(msg.level, std::string_view(msg.payload.data(), msg.payload.size()), {});
  }
  void flush_() override {}
};

bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

}  // namespace

bool to_journal() { return journal_mode; }

std::vector<std::string> errors_logged() { return recorder->messages(); }

void setup(int verbosity, bool quiet) {
  journal_mode = stderr_is_journal();
  show_fields = verbosity > 0;
  std::shared_ptr<spdlog::logger> logger;
  if (journal_mode) {
    logger = std::make_shared<spdlog::logger>("nodeimg", std::make_shared<JournalSink>());
  } else {
    logger = std::make_shared<spdlog::logger>("nodeimg", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // One layout whatever the verbosity, so that scripts and eyes read -v output alike.
    logger->set_pattern("nodeimg: %^%l%$: %v");
  }
  logger->sinks().push_back(recorder);
  logger->set_level(quiet ? spdlog::level::warn
                          : verbosity >= 2 ? spdlog::level::trace
                          : verbosity == 1 ? spdlog::level::debug
                                           : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void event(spdlog::level::level_enum level, std::string_view message, const Fields& fields) {
  if (!spdlog::default_logger()->should_log(level)) return;
  if (journal_mode) {
    journal_send(level, message, fields);
    return;
  }
  std::string line(message);
  if (show_fields)
    for (const auto& [k, v] : fields) line += " " + k + "=" + v;
  spdlog::log(level, "{}", line);
}

void audit(spdlog::level::level_enum level, std::string_view message, const Fields& fields) {
  Fields all = fields;
  if (const char* id = std::getenv("INVOCATION_ID"); id && *id) all.push_back({"NODEIMG_INVOCATION_ID", id});
  journal_send(level, message, all);
}

void event(const LogEntry& entry) {
  event(entry.failed ? spdlog::level::err : spdlog::level::info, entry.message, entry.fields);
}

void result(const LogEntry& entry) {
  if (entry.failed || journal_mode) return event(entry);
  event(spdlog::level::debug, entry.message, entry.fields);
}

}  // namespace nodeimg::log

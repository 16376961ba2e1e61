#pragma once
// Runs a program to completion and captures its exit code, stdout and stderr (tests only).
#include <map>
#include <string>
#include <vector>

namespace nodeimg::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

ProcessResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                  const std::string& stdin_text = "");

}  // namespace nodeimg::testing

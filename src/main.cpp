// nodeimg: entry point. Recoverable errors travel as values and become exit codes in the
// commands; anything thrown is fatal and ends here.
#include <exception>
#include <iostream>

#include "commands/cli.hpp"

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer build's own defaults (scripts/test-sanitizers), for where the test run's
// ASAN_OPTIONS does not reach: nodeimg started by systemd inside the test container. Same
// as the test run's: memory errors abort; leaks are not reported, because gRPC keeps
// process-lifetime singletons that LeakSanitizer would report at every exit.
// ASAN_OPTIONS and UBSAN_OPTIONS, when set, still win.
extern "C" const char* __asan_default_options() {
  return "detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1";
}
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
#endif

int main(int argc, char** argv) {
  try {
    return nodeimg::run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "nodeimg: fatal: " << e.what() << "\n";
    return 1;
  }
}

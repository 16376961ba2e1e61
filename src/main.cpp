// nodeimg: entry point. Recoverable errors travel as values and become exit codes in the
// commands; anything thrown is fatal and ends here.
#include <exception>
#include <iostream>

#include "commands/cli.hpp"

int main(int argc, char** argv) {
  try {
    return nodeimg::run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "nodeimg: fatal: " << e.what() << "\n";
    return 1;
  }
}

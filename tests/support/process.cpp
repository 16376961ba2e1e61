#include "support/process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nodeimg::testing {

namespace {
std::string slurp_fd(int fd) {
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}
}  // namespace

ProcessResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  const std::string& stdin_text) {
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  FILE* in = std::tmpfile();
  if (!out || !err || !in) throw std::runtime_error("tmpfile failed");
  std::fputs(stdin_text.c_str(), in);
  std::fflush(in);
  ::lseek(::fileno(in), 0, SEEK_SET);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(::fileno(in), 0);
    ::dup2(::fileno(out), 1);
    ::dup2(::fileno(err), 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::perror("execvp");
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp_fd(::fileno(out));
  r.err = slurp_fd(::fileno(err));
  std::fclose(out);
  std::fclose(err);
  std::fclose(in);
  return r;
}

}  // namespace nodeimg::testing

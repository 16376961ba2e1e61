#pragma once
// Recoverable errors are values (std::expected); exceptions are reserved for fatal
// conditions and are caught only in main().
#include <expected>
#include <string>
#include <utility>

namespace nodeimg {

// An error message that names the action, the object and the cause, e.g.
// `edit /var/lib/kubelet/config.yaml: line 3: value of "kind" is not a scalar`.
struct Error {
  std::string message;
  // The peer (a container runtime) did not answer at all: connection refused or lost, or no
  // answer within the timeout. About the peer, not the object acted on: callers stop
  // rather than try the next object against a runtime that is gone.
  bool unreachable = false;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected(Error{std::move(message)});
}

// Prefixes the error with what was being done ("read /etc/x: " + cause).
inline Error context(std::string_view what, const Error& e) {
  return Error{.message = std::string(what) + ": " + e.message, .unreachable = e.unreachable};
}

}  // namespace nodeimg

#pragma once
// Node paths under --root, in one place: "/run/x.sock" under root "/tmp/node" is
// "/tmp/node/run/x.sock"; under "/" (or "") it is itself. Pure string work: nothing is
// resolved (HostFiles resolves safely; this names the host path for messages and sockets).
#include <string>
#include <string_view>

namespace nodeimg {

// `path` must be absolute; `root` may end with '/'.
std::string under_root(std::string_view root, std::string_view path);

}  // namespace nodeimg

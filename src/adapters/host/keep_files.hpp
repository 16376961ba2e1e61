#pragma once
// gc.keepFromFile on the node: the keep patterns in the files (or the files of the
// directories) the configuration names, read at each run so that the list follows whoever
// maintains it (a prepuller, configuration management, a ConfigMap synced to the node).
//
// A directory contributes each entry that is not hidden (".name": a ConfigMap volume's
// "..data" and editors' temporary files) and not a directory, in name order; symlinks are
// followed (a ConfigMap volume's keys are symlinks). An absent path, an unreadable file or
// a bad pattern is an error: a protection list is never silently empty or half read.
#include <string>
#include <vector>

#include "adapters/host/host_files.hpp"
#include "core/gc/image_ref.hpp"

namespace nodeimg {

Result<std::vector<gc::ReferencePattern>> read_keep_files(const HostFiles& files, const std::vector<std::string>& paths);

}  // namespace nodeimg

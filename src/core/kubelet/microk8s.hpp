#pragma once
// MicroK8s: kubelet runs inside kubelite (snap.microk8s.daemon-kubelite.service) and takes
// its flags, one or more per line, from /var/snap/microk8s/current/args/kubelet, where
// `current` links to the snap revision's directory. kubelite reads the file with the
// shell (`declare -a args="($(cat …))"`): quotes group, `#` at a word's start comments out
// the rest of the line, ${SNAP_DATA}/${SNAP_COMMON}/${SNAP} expand. The supported change is
// to edit that file and restart the kubelite unit. Internal to discovery and plan.
#include <string>
#include <vector>

#include "core/common/file_tree.hpp"
#include "core/kubelet/discovery.hpp"
#include "core/kubelet/systemd_unit.hpp"

namespace nodeimg::kubelet {

inline constexpr std::string_view kMicrok8sSnapData = "/var/snap/microk8s";

// The args file, with `current` resolved inside /var/snap/microk8s; refuses a link that
// leads out of it (or a revision or args directory that is itself a link).
Result<ArgsFile> microk8s_args_file(const FileTree& files);

// The words of an args file, each with the line it is written on (comments dropped,
// quotes removed, the snap's variables expanded; `revision_dir` is ${SNAP_DATA}).
Result<std::vector<systemd::Word>> parse_args_file(const std::string& path, std::string_view text,
                                                   const std::string& revision_dir);

// `text` with one more line `--flag=value` at its end, keeping CRLF and a missing final
// newline as they are.
std::string append_args_line(std::string_view text, std::string_view flag, std::string_view value);

}  // namespace nodeimg::kubelet

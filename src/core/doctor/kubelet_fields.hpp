#pragma once
// The top-level fields of kubelet's KubeletConfiguration (kubelet.config.k8s.io/v1beta1),
// written down from the upstream API reference up to Kubernetes 1.34, so that doctor can
// name keys kubelet does not know. kubelet decodes its files leniently: a misspelt key is
// silently ignored (it only logs "Using lenient decoding as strict decoding failed").
#include <optional>
#include <string>
#include <string_view>

namespace nodeimg::doctor {

bool is_known_kubelet_field(std::string_view key);

// The known field closest to `key` (same letters in another case, or at most two edits
// away), as a "did you mean" hint; nullopt when nothing is close.
std::optional<std::string> closest_kubelet_field(std::string_view key);

}  // namespace nodeimg::doctor

#pragma once
// kubelet refuses some combinations of its image settings (low >= high, a maximum age
// not above the minimum, parallel pulls while pulls are serialized). Before planning an
// edit, the values nodeimg's configuration asks for are checked together with the values
// kubelet has now for the others, and the message says where every value comes from:
//   imageGCLowThresholdPercent 80 (kubelet default) must be below imageGCHighThresholdPercent
//   70 (/etc/nodeimg/config.yaml:4, kubelet.settings.imageGCHighThresholdPercent); set both
// A conflict is a configuration error (exit 2): the operator's file asks for it.
#include "core/common/error.hpp"
#include "core/config/app_config.hpp"
#include "core/kubelet/plan.hpp"

namespace nodeimg {

// `current`: kubelet's settings as they are (effective value and source); `desired`: what
// nodeimg's configuration asks for. A conflict that nodeimg's configuration has no part in
// (kubelet's own files already disagree) is not reported here.
Result<void> check_kubelet_combination(const AppConfig& config, const std::vector<kubelet::SettingState>& current,
                                       const kubelet::Values& desired);

}  // namespace nodeimg

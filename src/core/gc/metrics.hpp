#pragma once
// The collector's last run as a file for node_exporter's textfile collector (Prometheus
// text exposition format 0.0.4). The command renders it after every run except a dry run
// and writes it atomically to metrics.textfile. Pure: the time the run finished arrives as
// an argument.
//
// Every value describes the last run (gauges, not counters: the file is replaced whole),
// except the filesystem and image figures, which describe the node after it.
#include <string>
#include <string_view>

#include "core/gc/report.hpp"

namespace nodeimg::gc {

std::string render_metrics(const RunReport& report, Seconds finished_at);

// A label value as the exposition format wants it: \ " and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace nodeimg::gc

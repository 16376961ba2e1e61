#pragma once
// `nodeimg doctor`: explains the node's image health; exit 0 when all is well, 1 when a
// finding needs attention (a warning or an error).
#include "commands/context.hpp"

namespace nodeimg {

int doctor_run(const Context& ctx);

}  // namespace nodeimg

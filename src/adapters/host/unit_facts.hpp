#pragma once
// Read-only facts about systemd units over the system bus (sd-bus, no systemctl): is a unit
// installed and enabled, how did its last run end, when does a timer fire next. For
// `nodeimg doctor`. sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS.
#include <cstdint>
#include <memory>
#include <string>

#include "core/common/error.hpp"

typedef struct sd_bus sd_bus;

namespace nodeimg {

struct UnitFacts {
  std::string load_state;       // loaded, not-found, masked, ...
  std::string unit_file_state;  // enabled, disabled, static, ...
  std::string active_state;
  std::string result;               // services and timers: success, exit-code, ...
  int exit_status = 0;              // services: ExecMainStatus
  std::uint64_t exit_usec = 0;      // services: ExecMainExitTimestamp (µs since the epoch, 0 = never)
  std::uint64_t next_elapse_usec = 0;  // timers: NextElapseUSecRealtime (µs since the epoch, 0 = none)
};

class SystemdUnits {
 public:
  static Result<std::unique_ptr<SystemdUnits>> connect();
  ~SystemdUnits();
  SystemdUnits(const SystemdUnits&) = delete;
  SystemdUnits& operator=(const SystemdUnits&) = delete;

  // Loads `unit` (a unit that does not exist reports load_state "not-found").
  Result<UnitFacts> facts(const std::string& unit);

 private:
  explicit SystemdUnits(sd_bus* bus) : bus_(bus) {}
  sd_bus* bus_;
};

}  // namespace nodeimg

#pragma once
// systemd's Manager over the system bus with sd-bus (no systemctl subprocess).
// sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS, so tests can aim it at a
// container's bus.
#include <memory>

#include "adapters/host/service_manager.hpp"

typedef struct sd_bus sd_bus;

namespace nodeimg {

class SystemdBus final : public ServiceManager {
 public:
  static Result<std::unique_ptr<SystemdBus>> connect();
  ~SystemdBus() override;

  Result<UnitStatus> status(const std::string& unit) override;
  Result<std::string> restart(const std::string& unit, Duration timeout) override;
  Result<void> reload() override;

 private:
  explicit SystemdBus(sd_bus* bus) : bus_(bus) {}
  sd_bus* bus_;
  bool subscribed_ = false;
};

}  // namespace nodeimg

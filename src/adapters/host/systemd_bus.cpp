#include "adapters/host/systemd_bus.hpp"

#include <systemd/sd-bus.h>

#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace nodeimg {

namespace {

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

// RAII for the sd-bus objects used here.
struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&e); }
  std::string text(int r) const {
    if (e.message) return fmt::format("{} ({})", e.message, e.name ? e.name : "");
    return std::strerror(-r);
  }
};
struct Message {
  sd_bus_message* m = nullptr;
  ~Message() { sd_bus_message_unref(m); }
};
struct Slot {
  sd_bus_slot* s = nullptr;
  ~Slot() { sd_bus_slot_unref(s); }
};
struct FreeString {
  char* s = nullptr;
  ~FreeString() { free(s); }
};

Result<std::string> unit_path(sd_bus* bus, const std::string& unit) {
  BusError err;
  Message reply;
  int r = sd_bus_call_method(bus, kDestination, kManagerPath, kManager, "LoadUnit", &err.e, &reply.m, "s", unit.c_str());
  if (r < 0) return fail(fmt::format("load unit {} over D-Bus: {}", unit, err.text(r)));
  const char* path = nullptr;
  r = sd_bus_message_read(reply.m, "o", &path);
  if (r < 0) return fail(fmt::format("load unit {}: bad reply: {}", unit, std::strerror(-r)));
  return std::string(path);
}

struct JobWait {
  std::string job;
  std::string result;
  bool done = false;
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* wait = static_cast<JobWait*>(userdata);
  std::uint32_t id = 0;
  const char *job = nullptr, *unit = nullptr, *result = nullptr;
  if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
  if (!wait->job.empty() && wait->job == job) {
    wait->result = result;
    wait->done = true;
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<SystemdBus>> SystemdBus::connect() {
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  if (r < 0)
    return fail(fmt::format("connect to the system bus: {} (is systemd running? DBUS_SYSTEM_BUS_ADDRESS={})",
                            std::strerror(-r), getenv("DBUS_SYSTEM_BUS_ADDRESS") ? getenv("DBUS_SYSTEM_BUS_ADDRESS") : "unset"));
  return std::unique_ptr<SystemdBus>(new SystemdBus(bus));
}

SystemdBus::~SystemdBus() { sd_bus_flush_close_unref(bus_); }

Result<UnitStatus> SystemdBus::status(const std::string& unit) {
  auto path = unit_path(bus_, unit);
  if (!path) return std::unexpected(path.error());
  UnitStatus st;
  for (auto [name, slot] : {std::pair{"LoadState", &st.load_state}, std::pair{"ActiveState", &st.active_state},
                            std::pair{"SubState", &st.sub_state}}) {
    BusError err;
    FreeString value;
    int r = sd_bus_get_property_string(bus_, kDestination, path->c_str(), "org.freedesktop.systemd1.Unit", name,
                                       &err.e, &value.s);
    if (r < 0) return fail(fmt::format("read {}.{} over D-Bus: {}", unit, name, err.text(r)));
    *slot = value.s;
  }
  {
    BusError err;
    Message reply;
    int r = sd_bus_get_property(bus_, kDestination, path->c_str(), "org.freedesktop.systemd1.Unit", "InvocationID",
                                &err.e, &reply.m, "ay");
    if (r < 0) return fail(fmt::format("read {}.InvocationID over D-Bus: {}", unit, err.text(r)));
    const void* bytes = nullptr;
    std::size_t size = 0;
    r = sd_bus_message_read_array(reply.m, 'y', &bytes, &size);
    if (r < 0) return fail(fmt::format("read {}.InvocationID: {}", unit, std::strerror(-r)));
    for (std::size_t i = 0; i < size; ++i) st.invocation_id += fmt::format("{:02x}", static_cast<const unsigned char*>(bytes)[i]);
  }
  for (auto [name, slot] : {std::pair{"MainPID", &st.main_pid}, std::pair{"NRestarts", &st.n_restarts}}) {
    BusError err;
    int r = sd_bus_get_property_trivial(bus_, kDestination, path->c_str(), "org.freedesktop.systemd1.Service", name,
                                        &err.e, 'u', slot);
    if (r < 0) return fail(fmt::format("read {}.{} over D-Bus: {}", unit, name, err.text(r)));
  }
  return st;
}

// systemctl's race-free pattern: subscribe and match JobRemoved before asking for the
// restart, then wait for the signal that names the job the call returned.
Result<std::string> SystemdBus::restart(const std::string& unit, Duration timeout) {
  if (!subscribed_) {  // once per connection: systemd refuses a second Subscribe
    BusError err;
    int r = sd_bus_call_method(bus_, kDestination, kManagerPath, kManager, "Subscribe", &err.e, nullptr, "");
    if (r < 0 && !sd_bus_error_has_name(&err.e, "org.freedesktop.systemd1.AlreadySubscribed"))
      return fail(fmt::format("subscribe to systemd over D-Bus: {}", err.text(r)));
    subscribed_ = true;
  }
  JobWait wait;
  Slot slot;
  int r = sd_bus_match_signal(bus_, &slot.s, kDestination, kManagerPath, kManager, "JobRemoved", on_job_removed, &wait);
  if (r < 0) return fail(fmt::format("watch systemd jobs over D-Bus: {}", std::strerror(-r)));
  {
    BusError err;
    Message reply;
    r = sd_bus_call_method(bus_, kDestination, kManagerPath, kManager, "RestartUnit", &err.e, &reply.m, "ss",
                           unit.c_str(), "replace");
    if (r < 0) return fail(fmt::format("restart {} over D-Bus: {}", unit, err.text(r)));
    const char* job = nullptr;
    r = sd_bus_message_read(reply.m, "o", &job);
    if (r < 0) return fail(fmt::format("restart {}: bad reply: {}", unit, std::strerror(-r)));
    wait.job = job;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!wait.done) {
    r = sd_bus_process(bus_, nullptr);
    if (r < 0) return fail(fmt::format("wait for the restart of {}: {}", unit, std::strerror(-r)));
    if (r > 0) continue;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return fail(fmt::format("restart {}: job {} did not finish within {}", unit, wait.job, format_duration(timeout)));
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now).count();
    r = sd_bus_wait(bus_, static_cast<std::uint64_t>(left));
    if (r < 0) return fail(fmt::format("wait for the restart of {}: {}", unit, std::strerror(-r)));
  }
  return wait.result;
}

Result<void> SystemdBus::reload() {
  BusError err;
  int r = sd_bus_call_method(bus_, kDestination, kManagerPath, kManager, "Reload", &err.e, nullptr, "");
  if (r < 0) return fail(fmt::format("reload systemd (daemon-reload) over D-Bus: {}", err.text(r)));
  return {};
}

}  // namespace nodeimg

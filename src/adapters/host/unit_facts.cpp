#include "adapters/host/unit_facts.hpp"

#include <systemd/sd-bus.h>

#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace nodeimg {

namespace {

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";

struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&e); }
  std::string text(int r) const { return e.message ? std::string(e.message) : std::string(std::strerror(-r)); }
};
struct Message {
  sd_bus_message* m = nullptr;
  ~Message() { sd_bus_message_unref(m); }
};

Result<std::string> string_property(sd_bus* bus, const std::string& path, const char* interface, const char* name,
                                    const std::string& unit) {
  BusError err;
  char* value = nullptr;
  const int r = sd_bus_get_property_string(bus, kDestination, path.c_str(), interface, name, &err.e, &value);
  if (r < 0) return fail(fmt::format("read {}.{} over D-Bus: {}", unit, name, err.text(r)));
  std::string out = value ? value : "";
  std::free(value);
  return out;
}

template <class T>
Result<T> trivial_property(sd_bus* bus, const std::string& path, const char* interface, const char* name, char type,
                           const std::string& unit) {
  BusError err;
  T value{};
  const int r = sd_bus_get_property_trivial(bus, kDestination, path.c_str(), interface, name, &err.e, type, &value);
  if (r < 0) return fail(fmt::format("read {}.{} over D-Bus: {}", unit, name, err.text(r)));
  return value;
}

// systemd reports "never" as 0 or UINT64_MAX.
bool valid_usec(std::uint64_t usec) { return usec != 0 && usec != UINT64_MAX; }

// A timer driven by OnBootSec=/OnUnitInactiveSec= (monotonic) has no realtime elapse: convert
// its CLOCK_MONOTONIC time with the clocks' present offset (0 when it has none either).
std::uint64_t realtime_of_monotonic(std::uint64_t monotonic_usec) {
  if (!valid_usec(monotonic_usec)) return 0;
  timespec mono{}, real{};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &real);
  const auto usec = [](const timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000 + t.tv_nsec / 1000;
  };
  const std::int64_t at = usec(real) + (static_cast<std::int64_t>(monotonic_usec) - usec(mono));
  return at > 0 ? static_cast<std::uint64_t>(at) : 0;
}

Result<void> read_type_specific(sd_bus* bus, const std::string& path, const std::string& unit, UnitFacts& f) {
  if (unit.ends_with(".service")) {
    const char* service = "org.freedesktop.systemd1.Service";
    auto result = string_property(bus, path, service, "Result", unit);
    auto status = trivial_property<std::int32_t>(bus, path, service, "ExecMainStatus", 'i', unit);
    auto exit = trivial_property<std::uint64_t>(bus, path, service, "ExecMainExitTimestamp", 't', unit);
    if (!result || !status || !exit) return fail(!result ? result.error().message : !status ? status.error().message : exit.error().message);
    f.result = *result;
    f.exit_status = *status;
    f.exit_usec = *exit;
  } else if (unit.ends_with(".timer")) {
    const char* timer = "org.freedesktop.systemd1.Timer";
    auto result = string_property(bus, path, timer, "Result", unit);
    auto next = trivial_property<std::uint64_t>(bus, path, timer, "NextElapseUSecRealtime", 't', unit);
    auto next_mono = trivial_property<std::uint64_t>(bus, path, timer, "NextElapseUSecMonotonic", 't', unit);
    if (!result || !next || !next_mono)
      return fail(!result ? result.error().message : !next ? next.error().message : next_mono.error().message);
    f.result = *result;
    f.next_elapse_usec = valid_usec(*next) ? *next : realtime_of_monotonic(*next_mono);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<SystemdUnits>> SystemdUnits::connect() {
  sd_bus* bus = nullptr;
  const int r = sd_bus_open_system(&bus);
  if (r < 0) return fail(fmt::format("connect to the system bus: {}", std::strerror(-r)));
  return std::unique_ptr<SystemdUnits>(new SystemdUnits(bus));
}

SystemdUnits::~SystemdUnits() { sd_bus_flush_close_unref(bus_); }

Result<UnitFacts> SystemdUnits::facts(const std::string& unit) {
  BusError err;
  Message reply;
  int r = sd_bus_call_method(bus_, kDestination, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                             "LoadUnit", &err.e, &reply.m, "s", unit.c_str());
  if (r < 0) return fail(fmt::format("load unit {} over D-Bus: {}", unit, err.text(r)));
  const char* object = nullptr;
  r = sd_bus_message_read(reply.m, "o", &object);
  if (r < 0) return fail(fmt::format("load unit {}: bad reply: {}", unit, std::strerror(-r)));
  const std::string path = object;
  UnitFacts f;
  for (auto [name, slot] : {std::pair{"LoadState", &f.load_state}, std::pair{"ActiveState", &f.active_state},
                            std::pair{"UnitFileState", &f.unit_file_state}}) {
    auto v = string_property(bus_, path, kUnitInterface, name, unit);
    if (!v) return std::unexpected(v.error());
    *slot = std::move(*v);
  }
  // A unit that is not installed has no service or timer properties to read.
  if (f.load_state != "loaded") return f;
  if (auto ok = read_type_specific(bus_, path, unit, f); !ok) return std::unexpected(ok.error());
  return f;
}

}  // namespace nodeimg

#pragma once
// The live host behind the core's interfaces, as the service uses it: one place that picks the
// Win32 adapters (registry, persistent reservations, discovery).
#include "portguard/core/backup_store.hpp"
#include "portguard/core/call_trace.hpp"
#include "portguard/core/ports.hpp"
#include "win32/persistent_reservations.hpp"

#include <memory>

namespace portguard::win32 {

struct HostAdapters {
  std::unique_ptr<Win32PersistentReservationApi> reservations;
  std::unique_ptr<SystemProbe> probe;
};

/// `ledger`: the blocks PortGuard created, which the reservation adapter looks up (may be null);
/// `trace`: where the probe marks the calls that can block, for the guard's watchdog (may be null).
HostAdapters make_host_adapters(RegistryStore& registry, const ReservationLedger* ledger, CallTrace* trace = nullptr);

} // namespace portguard::win32

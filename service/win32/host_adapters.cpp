#include "win32/host_adapters.hpp"

#include "win32/registry_store.hpp"
#include "win32/system_probe.hpp"

namespace portguard::win32 {

HostAdapters make_host_adapters(RegistryStore& registry, const ReservationLedger* ledger, CallTrace* trace) {
  HostAdapters h;
  h.reservations = std::make_unique<Win32PersistentReservationApi>(registry, ledger);
  h.probe = std::make_unique<Win32SystemProbe>(registry, *h.reservations, ledger, trace);
  return h;
}

} // namespace portguard::win32

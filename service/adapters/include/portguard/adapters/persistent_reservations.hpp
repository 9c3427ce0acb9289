#pragma once
// PersistentReservationApi on iphlpapi's CreatePersistent{Udp,Tcp}PortReservation,
// LookupPersistent* and DeletePersistent*. The functions are resolved with GetProcAddress: they do
// not exist before Vista/2008 and Wine does not export them (a static import would crash), so
// available() is false there and the planner falls back to the other mechanisms.
//
// Windows documents no way to enumerate persistent reservations (netsh's "show excludedportrange"
// reads undocumented NSI state). list() therefore returns the blocks PortGuard knows about — the
// ledger of blocks it created plus the candidate blocks each call names (the ranges the pass
// needs) — confirmed one by one with Lookup*. No candidate outlives the call. Reservations made by others with other bounds are
// not seen; Create* still refuses to overlap them (ERROR_SHARING_VIOLATION).
#include "portguard/core/backup_store.hpp"
#include "portguard/core/ports.hpp"

#include <vector>

namespace portguard::win32 {

class Win32PersistentReservationApi : public PersistentReservationApi {
public:
  /// `registry`: the service list that names who holds a port create() is refused for.
  /// `ledger` may be null; the blocks it lists are looked up by list().
  explicit Win32PersistentReservationApi(RegistryStore& registry, const ReservationLedger* ledger = nullptr);

  bool available() const override;
  std::vector<PersistentReservation> list(Protocol protocol, std::span<const PortRange> candidates) override;
  /// Throws PortsInUseError naming the holder(s) on ERROR_SHARING_VIOLATION.
  std::uint64_t create(Protocol protocol, Port start, std::uint16_t count) override;
  void remove(Protocol protocol, Port start, std::uint16_t count) override;

  /// nullopt: no reservation with exactly this start and count.
  std::optional<std::uint64_t> lookup(Protocol protocol, Port start, std::uint16_t count);

private:
  RegistryStore& registry_;
  const ReservationLedger* ledger_;
};

} // namespace portguard::win32

#include "portguard/adapters/persistent_reservations.hpp"

#include "portguard/core/error.hpp"
#include "portguard/adapters/system_probe.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <winsock2.h>
#include <windows.h>

#include <algorithm>

namespace portguard::win32 {
namespace {

using CreateFn = ULONG(WINAPI*)(USHORT, USHORT, PULONG64);
using LookupFn = ULONG(WINAPI*)(USHORT, USHORT, PULONG64);
using DeleteFn = ULONG(WINAPI*)(USHORT, USHORT);

struct Functions {
  CreateFn create[2] = {nullptr, nullptr};   // [udp, tcp]
  LookupFn lookup[2] = {nullptr, nullptr};
  DeleteFn remove[2] = {nullptr, nullptr};
  bool complete() const {
    for (int i = 0; i < 2; ++i) {
      if (create[i] == nullptr || lookup[i] == nullptr || remove[i] == nullptr) return false;
    }
    return true;
  }
};

template <typename Fn>
Fn resolve(HMODULE module, const char* name) {
  return reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(module, name)));
}

const Functions& functions() {
  static const Functions fns = [] {
    Functions f;
    // Loaded once for the process lifetime: the function pointers must stay valid.
    HMODULE iphlpapi = ::LoadLibraryExW(L"iphlpapi.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (iphlpapi == nullptr) iphlpapi = ::LoadLibraryW(L"iphlpapi.dll");
    if (iphlpapi == nullptr) return f;
    f.create[0] = resolve<CreateFn>(iphlpapi, "CreatePersistentUdpPortReservation");
    f.create[1] = resolve<CreateFn>(iphlpapi, "CreatePersistentTcpPortReservation");
    f.lookup[0] = resolve<LookupFn>(iphlpapi, "LookupPersistentUdpPortReservation");
    f.lookup[1] = resolve<LookupFn>(iphlpapi, "LookupPersistentTcpPortReservation");
    f.remove[0] = resolve<DeleteFn>(iphlpapi, "DeletePersistentUdpPortReservation");
    f.remove[1] = resolve<DeleteFn>(iphlpapi, "DeletePersistentTcpPortReservation");
    return f;
  }();
  return fns;
}

int index(Protocol p) { return p == Protocol::udp ? 0 : 1; }

std::string block_text(Protocol protocol, Port start, std::uint16_t count) {
  return std::to_string(start) + "-" + std::to_string(long{start} + count - 1) + "/" + std::string(to_string(protocol));
}

void require_available() {
  if (!functions().complete())
    throw Error("persistent port reservations are unavailable on this host (iphlpapi does not export "
                "CreatePersistentUdpPortReservation & co.; Windows Vista/2008 or later is needed)");
}

} // namespace

Win32PersistentReservationApi::Win32PersistentReservationApi(RegistryStore& registry, const ReservationLedger* ledger)
    : registry_(registry), ledger_(ledger) {}

bool Win32PersistentReservationApi::available() const { return functions().complete(); }

std::optional<std::uint64_t> Win32PersistentReservationApi::lookup(Protocol protocol, Port start, std::uint16_t count) {
  require_available();
  ULONG64 token = 0;
  // N.B. the API takes the start port in network byte order, the count in host order.
  const ULONG rc = functions().lookup[index(protocol)](::htons(start), count, &token);
  if (rc == ERROR_NOT_FOUND || rc == ERROR_FILE_NOT_FOUND) return std::nullopt;
  if (rc != NO_ERROR) throw Win32Error(rc, protocol == Protocol::udp ? "LookupPersistentUdpPortReservation" : "LookupPersistentTcpPortReservation",
                                       block_text(protocol, start, count));
  return token;
}

std::vector<PersistentReservation> Win32PersistentReservationApi::list(Protocol protocol, std::span<const PortRange> candidates) {
  require_available();
  std::vector<PersistentReservation> blocks;
  auto consider = [&](Port start, std::uint16_t count) {
    if (start == 0 || count == 0) return;
    const bool seen = std::any_of(blocks.begin(), blocks.end(), [&](const auto& b) { return b.start == start && b.count == count; });
    if (seen) return;
    if (auto token = lookup(protocol, start, count)) blocks.push_back({protocol, start, count, *token});
  };
  if (ledger_ != nullptr) {
    for (const auto& r : ledger_->load()) {
      if (r.protocol == protocol) consider(r.start, r.count);
    }
  }
  for (const auto& c : candidates) consider(c.first(), static_cast<std::uint16_t>(c.size()));
  std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  return blocks;
}

std::uint64_t Win32PersistentReservationApi::create(Protocol protocol, Port start, std::uint16_t count) {
  require_available();
  ULONG64 token = 0;
  const ULONG rc = functions().create[index(protocol)](::htons(start), count, &token);
  if (rc == ERROR_SHARING_VIOLATION) {
    const PortRange range = PortRange::make(start, long{start} + count - 1);
    throw PortsInUseError(block_text(protocol, start, count) + " cannot be reserved: a port of the block is in use by " +
                          describe_holders(registry_, protocol, range) + ", or the block overlaps an existing reservation");
  }
  if (rc != NO_ERROR) throw Win32Error(rc, protocol == Protocol::udp ? "CreatePersistentUdpPortReservation" : "CreatePersistentTcpPortReservation",
                                       block_text(protocol, start, count));
  return token;
}

void Win32PersistentReservationApi::remove(Protocol protocol, Port start, std::uint16_t count) {
  require_available();
  const ULONG rc = functions().remove[index(protocol)](::htons(start), count);
  if (rc != NO_ERROR) throw Win32Error(rc, protocol == Protocol::udp ? "DeletePersistentUdpPortReservation" : "DeletePersistentTcpPortReservation",
                                       block_text(protocol, start, count));
}

} // namespace portguard::win32

// The dynamic port range through WMI root\StandardCimv2 MSFT_NetUDPSetting / MSFT_NetTCPSetting
// (Windows 8 / 2012 and later), with the one-minute cache the guard's passes read.
#include "portguard/adapters/system_probe.hpp"
#include "system_probe_internal.hpp"

#include "portguard/core/error.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <wbemidl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace portguard::win32 {
namespace {

/// root\StandardCimv2 with an explicit proxy blanket; empty when WMI cannot be reached.
com_ptr<IWbemServices> standard_cimv2() {
  com_ptr<IWbemLocator> locator;
  if (FAILED(::CoCreateInstance(CLSID_WbemLocator, nullptr, CLSCTX_INPROC_SERVER, IID_IWbemLocator, reinterpret_cast<void**>(locator.put()))))
    return {};
  unique_bstr ns(::SysAllocString(L"ROOT\\StandardCimv2"));
  com_ptr<IWbemServices> services;
  if (!ns || FAILED(locator.get()->ConnectServer(ns.get(), nullptr, nullptr, nullptr, 0, nullptr, nullptr, services.put()))) return {};
  // N.B. without an explicit blanket the proxy may use an authentication level WMI refuses.
  if (FAILED(::CoSetProxyBlanket(services.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr, RPC_C_AUTHN_LEVEL_CALL,
                                 RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE)))
    return {};
  return services;
}

const wchar_t* setting_class(Protocol protocol) { return protocol == Protocol::udp ? L"MSFT_NetUDPSetting" : L"MSFT_NetTCPSetting"; }

/// Every instance of the protocol's setting class (TCP: one per template), each row waited for at
/// most 5 s so a hung WMI cannot hang a check. nullopt when the query cannot run.
std::optional<std::vector<com_ptr<IWbemClassObject>>> setting_rows(IWbemServices* services, Protocol protocol) {
  unique_bstr wql(::SysAllocString(L"WQL"));
  unique_bstr query(::SysAllocString((std::wstring(L"SELECT * FROM ") + setting_class(protocol)).c_str()));
  com_ptr<IEnumWbemClassObject> rows;
  if (!wql || !query ||
      FAILED(services->ExecQuery(wql.get(), query.get(), WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, nullptr, rows.put())))
    return std::nullopt;
  std::vector<com_ptr<IWbemClassObject>> out;
  for (;;) {
    com_ptr<IWbemClassObject> row;
    ULONG returned = 0;
    if (rows.get()->Next(5000, 1, row.put(), &returned) != WBEM_S_NO_ERROR || returned == 0) break;
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<long> wmi_number(IWbemClassObject* row, const wchar_t* name) {
  unique_variant v;
  std::optional<long> out;
  if (SUCCEEDED(row->Get(name, 0, v.put(), nullptr, nullptr)) && SUCCEEDED(::VariantChangeType(v.get(), v.get(), 0, VT_I4))) out = v->lVal;
  return out;
}

/// The dynamic range of one protocol from WMI (Windows 8 / 2012 and later): root\StandardCimv2
/// MSFT_NetUDPSetting / MSFT_NetTCPSetting. TCP has one instance per setting template (Internet,
/// Datacenter, Compat, ...): the envelope of all of them is returned, since a port inside any of
/// them can be handed out. nullopt when WMI cannot answer (older Windows, Wine, WMI broken).
std::optional<PortRange> wmi_dynamic_range(Protocol protocol) {
  com_apartment com;
  if (!com.usable()) return std::nullopt;
  const auto services = standard_cimv2();
  if (!services) return std::nullopt;
  const auto rows = setting_rows(services.get(), protocol);
  if (!rows) return std::nullopt;
  std::optional<PortRange> envelope;
  for (const auto& row : *rows) {
    const auto start = wmi_number(row.get(), L"DynamicPortRangeStartPort");
    const auto count = wmi_number(row.get(), L"DynamicPortRangeNumberOfPorts");
    if (!start || !count || *start < 1 || *count < 1 || *start + *count - 1 > 65535) continue;
    const PortRange r = PortRange::make(*start, *start + *count - 1);
    envelope = envelope ? PortRange::make(std::min(envelope->first(), r.first()), std::max(envelope->last(), r.last())) : r;
  }
  return envelope;
}

/// Sets DynamicPortRangeStartPort / DynamicPortRangeNumberOfPorts on every instance (what
/// Set-NetUDPSetting / Set-NetTCPSetting do). Throws Error naming the instance and the HRESULT.
void write_wmi_dynamic_range(Protocol protocol, PortRange range) {
  com_apartment com;
  const std::string cls = narrow(setting_class(protocol));
  if (!com.usable()) throw Error("cannot set the dynamic port range through WMI " + cls + ": COM could not be initialised");
  const auto services = standard_cimv2();
  if (!services) throw Error("cannot set the dynamic port range: WMI root\\StandardCimv2 cannot be reached");
  const auto rows = setting_rows(services.get(), protocol);
  if (!rows || rows->empty()) throw Error("cannot set the dynamic port range: WMI lists no " + cls + " instance");
  const auto put = [](IWbemClassObject* row, const wchar_t* name, long value) {
    unique_variant v;
    v->vt = VT_I4;
    v->lVal = value;
    return row->Put(name, 0, v.get(), 0);
  };
  for (const auto& row : *rows) {
    HRESULT hr = put(row.get(), L"DynamicPortRangeStartPort", range.first());
    if (SUCCEEDED(hr)) hr = put(row.get(), L"DynamicPortRangeNumberOfPorts", static_cast<long>(range.size()));
    if (SUCCEEDED(hr)) hr = services.get()->PutInstance(row.get(), WBEM_FLAG_UPDATE_ONLY, nullptr, nullptr);
    if (FAILED(hr)) {
      char code[16];
      std::snprintf(code, sizeof code, "0x%08lX", static_cast<unsigned long>(hr));
      const auto name = [&]() -> std::string {
        unique_variant v;
        std::string out = "(unnamed)";
        if (SUCCEEDED(row.get()->Get(L"SettingName", 0, v.put(), nullptr, nullptr)) && v->vt == VT_BSTR) out = narrow(v->bstrVal);
        return out;
      }();
      throw Error("WMI " + cls + " instance '" + name + "' refused DynamicPortRangeStartPort = " + std::to_string(range.first()) +
                  ", DynamicPortRangeNumberOfPorts = " + std::to_string(range.size()) + " (IWbemServices::PutInstance, HRESULT " + code + ")");
    }
  }
}

/// WMI is slow to start (COM, the WMI service): the guard's passes reuse an answer for a minute.
struct WmiCache {
  std::mutex mutex;
  std::optional<PortRange> cached[2];
  std::chrono::steady_clock::time_point when[2];
  bool valid[2] = {false, false};
};
WmiCache& wmi_cache() {
  static WmiCache cache;
  return cache;
}

/// Forgets the cached answer after a write, so the next capture reads what was written.
void forget_cached_wmi_dynamic_range(Protocol protocol) {
  WmiCache& c = wmi_cache();
  std::lock_guard lock(c.mutex);
  c.valid[protocol == Protocol::udp ? 0 : 1] = false;
}

} // namespace

std::optional<PortRange> cached_wmi_dynamic_range(Protocol protocol) {
  WmiCache& c = wmi_cache();
  auto& [mutex, cached, when, valid] = c;
  const int i = protocol == Protocol::udp ? 0 : 1;
  std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (!valid[i] || now - when[i] > std::chrono::seconds(60)) {
    cached[i] = wmi_dynamic_range(protocol);
    when[i] = now;
    valid[i] = true;
  }
  return cached[i];
}

std::optional<PortRange> Win32DynamicRangeWmi::read(Protocol protocol) { return wmi_dynamic_range(protocol); }

void Win32DynamicRangeWmi::write(Protocol protocol, PortRange range) {
  // N.B. forget the cache even when a later instance fails: earlier instances may have changed.
  struct Forget {
    Protocol p;
    ~Forget() { forget_cached_wmi_dynamic_range(p); }
  } forget{protocol};
  write_wmi_dynamic_range(protocol, range);
}

} // namespace portguard::win32

#include "portguard/install/boot_protection.hpp"

#include "portguard/core/backup_store.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/adapters/data_layout.hpp"
#include "portguard/adapters/scm.hpp"

#include "portguard/core/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace portguard::win32 {
namespace {

std::string service_key(const std::string& service) { return "HKLM\\SYSTEM\\CurrentControlSet\\Services\\" + service; }

const std::string portguard_name = "PortGuard";


void save_records(const DataLayout& layout, const std::vector<ProtectRecord>& records) {
  nlohmann::json doc;
  doc["format"] = 1;
  doc["protected"] = nlohmann::json::array();
  for (const auto& r : records)
    doc["protected"].push_back({{"service", r.service}, {"created_value", r.created_value}, {"previous", r.previous}});
  write_file_atomically(layout.protect_records_file(), doc.dump(2) + "\n", ParentFolder::create);
}

} // namespace

std::vector<ProtectRecord> load_protect_records(const DataLayout& layout) {
  std::ifstream in(layout.protect_records_file(), std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  std::vector<ProtectRecord> out;
  try {
    const auto doc = nlohmann::json::parse(text.str());
    for (const auto& j : doc.at("protected"))
      out.push_back({j.at("service").get<std::string>(), j.at("created_value").get<bool>(), j.at("previous").get<std::vector<std::string>>()});
  } catch (const nlohmann::json::exception& e) {
    throw InputError(layout.protect_records_file().string(), std::string("broken record of protected services: ") + e.what());
  }
  return out;
}

bool is_recorded(const std::string& service, const DataLayout& layout) {
  const auto records = load_protect_records(layout);
  return std::any_of(records.begin(), records.end(), [&](const ProtectRecord& r) { return iequals_ascii(r.service, service); });
}

bool protect_service(RegistryStore& reg, const std::string& service, const DataLayout& layout) {
  const std::string key = service_key(service);
  if (reg.read_string(key, "ImagePath") == std::nullopt && reg.read_dword(key, "Start") == std::nullopt)
    throw InputError(service, "no service named '" + service + "' is installed (" + key + " not found)");
  // A boot- or system-start driver is loaded by the kernel before the SCM starts any service: a
  // dependency could never make it wait, and would only mislead (issue 16: protect the HNS service,
  // not a driver such as WinNAT's when it is registered that way).
  const auto type = reg.read_dword(key, "Type");
  const auto start = reg.read_dword(key, "Start");
  if (type && (*type == 1 || *type == 2) && start && *start <= 1)
    throw InputError(service, service + " is a driver started by the " + std::string(*start == 0 ? "boot loader" : "kernel (IoInitSystem)") +
                                  " before the Service Control Manager starts any service, so it cannot wait for PortGuard; protect the "
                                  "service that starts its port allocation instead (for Docker Desktop and WSL hosts: hns; docs/service.md)");
  // A service that depends on a missing service cannot start at all: never protect before install.
  if (!portguard_installed())
    throw InputError(service, "the PortGuard service is not installed; install it first (portguard install-service or the MSI), "
                              "or " + service + " would no longer start");
  const MultiStringValue current = reg.read_multi_string(key, "DependOnService");
  if (!current.type_problem.empty())
    throw InputError(key + "\\DependOnService", current.type_problem + "; fix the value before protecting " + service);
  if (std::any_of(current.strings.begin(), current.strings.end(), [](const std::string& s) { return iequals_ascii(s, portguard_name); }))
    return false;
  auto records = load_protect_records(layout);
  std::erase_if(records, [&](const ProtectRecord& r) { return iequals_ascii(r.service, service); });
  // Record first: if the write below fails, unprotect finds nothing to remove and says so.
  records.push_back({service, !current.present, current.strings});
  save_records(layout, records);
  std::vector<std::string> updated;
  for (const auto& s : current.strings)
    if (!s.empty()) updated.push_back(s);  // an empty string would end the list early for the SCM
  updated.push_back(portguard_name);
  reg.write_multi_string(key, "DependOnService", updated);
  return true;
}

std::string dependency_tradeoff(RegistryStore& reg, const std::string& service) {
  const auto start = reg.read_dword(service_key(service), "Start");
  const std::string when = start && *start == 2 ? "at boot the SCM starts it only after PortGuard is RUNNING (its first pass done)"
                                                : "whenever something starts it (on demand or by a trigger), the SCM starts PortGuard first "
                                                  "and starts " + service + " only once PortGuard is RUNNING";
  return when + "; if PortGuard is disabled or fails to start, starting " + service +
         " fails with error 1068 (ERROR_SERVICE_DEPENDENCY_FAIL) until PortGuard runs (docs/service.md)";
}

bool unprotect_service(RegistryStore& reg, const std::string& service, const DataLayout& layout) {
  auto records = load_protect_records(layout);
  const auto it = std::find_if(records.begin(), records.end(), [&](const ProtectRecord& r) { return iequals_ascii(r.service, service); });
  if (it == records.end()) return false;
  const std::string key = service_key(it->service);
  const MultiStringValue current = reg.read_multi_string(key, "DependOnService");
  if (current.present) {
    std::vector<std::string> updated;
    for (const auto& s : current.strings)
      if (!iequals_ascii(s, portguard_name)) updated.push_back(s);
    if (updated.size() != current.strings.size()) {
      if (updated.empty() && it->created_value) reg.delete_value(key, "DependOnService");
      else reg.write_multi_string(key, "DependOnService", updated);
    }
  }
  records.erase(it);
  save_records(layout, records);
  return true;
}

} // namespace portguard::win32

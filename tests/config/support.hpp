#pragma once
#include "portguard/config/policy.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pgtest {

namespace fs = std::filesystem;
using namespace portguard;
using namespace portguard::config;

inline fs::path source_dir() { return fs::path(PORTGUARD_SOURCE_DIR); }
inline fs::path data_dir() { return source_dir() / "tests" / "config" / "data"; }

inline std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_all(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline const ServiceNameResolver& test_services() {
  static const ServiceNameResolver r = ServiceNameResolver::parse(read_all(data_dir() / "services"), "services");
  return r;
}

inline Policy load(std::string_view text) { return load_policy_text(text, "policy.toml", test_services()); }

/// Every diagnostic of an invalid policy as "file:line:column: message"; fails when it loads.
inline std::vector<std::string> errors_of(std::string_view text) {
  try {
    load(text);
  } catch (const PolicyError& e) {
    std::vector<std::string> out;
    for (const Diagnostic& d : e.diagnostics()) out.push_back(d.to_string());
    return out;
  }
  FAIL("policy loaded although it should not have:\n" << text);
  return {};
}

/// A fresh empty directory under the system temp dir.
inline fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("pg-config-" + name + "-" + std::to_string(std::rand()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline ServiceInfo service(std::string name) {
  ServiceInfo s;
  s.name = std::move(name);
  s.start_type = StartType::automatic;
  s.state = ServiceState::running;
  return s;
}

} // namespace pgtest

namespace Catch {
template <>
struct StringMaker<portguard::Requirement> {
  static std::string convert(const portguard::Requirement& r) {
    return r.ports.to_string() + "/" + std::string(portguard::to_string(r.protocol)) + " " + r.service + " [" +
           std::string(portguard::to_string(r.provenance.kind)) + " " + r.provenance.source + ": " + r.provenance.reason + "]";
  }
};
template <>
struct StringMaker<portguard::PortRange> {
  static std::string convert(const portguard::PortRange& r) { return r.to_string(); }
};
} // namespace Catch

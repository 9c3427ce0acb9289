#include "internal.hpp"

#include "portguard/config/group_policy.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <system_error>

namespace portguard::config {

namespace {

constexpr int lkg_format = 1;

std::filesystem::path lkg_path(const std::filesystem::path& state_dir) { return state_dir / std::string(last_known_good_file_name); }

} // namespace

// The last known good keeps the inputs, not a digest: the policy text, the catalog it was checked
// against and the services-file lines it used. Loading re-runs the same validation, so a copy
// that was valid once is valid again identically, and a tampered copy is caught.
void save_last_known_good(const Policy& policy, const std::filesystem::path& state_dir) {
  nlohmann::json doc{
      {"format", lkg_format},
      {"policy", {{"source", policy.source}, {"text", policy.text}}},
      {"catalog", {{"source", policy.catalog.source}, {"text", policy.catalog.text}}},
      {"services", {{"source", policy.services_file}, {"text", policy.services_text}}},
      {"accepted_utc", policy.accepted_utc},
  };
  // The Group Policy values merged in, byte-exact (issue 17): reloading merges them again, so a
  // broken policy file or a broken Group Policy value later keeps exactly this protection.
  if (!policy.group_policy.empty()) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& v : policy.group_policy)
      values.push_back({{"key", v.key}, {"name", v.name}, {"type", v.raw.type}, {"data", to_hex(v.raw.data)}});
    doc["group_policy"] = std::move(values);
  }
  std::filesystem::create_directories(state_dir);
  const auto target = lkg_path(state_dir);
  auto temp = target;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write the last known good policy to " + temp.string());
    out << doc.dump(2) << '\n';
    out.flush();
    if (!out) throw Error("cannot write the last known good policy to " + temp.string() + " (disk full?)");
  }
  // N.B. rename replaces the previous copy atomically (MoveFileExW with MOVEFILE_REPLACE_EXISTING
  // on Windows): a reader sees the old or the new copy, never a half-written one.
  std::error_code ec;
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw Error("cannot replace the last known good policy " + target.string() + ": " + ec.message());
  }
}

std::optional<Policy> load_last_known_good(const std::filesystem::path& state_dir) {
  const auto file = lkg_path(state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  std::string bytes = detail::read_file(file, "last known good policy");
  const std::string name = file.string();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {
    throw PolicyError({{name, 0, 0, std::string("the last known good policy is damaged (") + e.what() + "); delete it, and the next valid policy replaces it"}});
  }
  try {
    if (doc.at("format").get<int>() != lkg_format) {
      throw PolicyError({{name, 0, 0, "the last known good policy has format " + doc.at("format").dump() + ", this PortGuard reads format " + std::to_string(lkg_format)}});
    }
    const std::string source = doc.at("policy").at("source").get<std::string>();
    const std::string text = doc.at("policy").at("text").get<std::string>();
    const std::string catalog_source = doc.at("catalog").at("source").get<std::string>();
    const std::string catalog_text = doc.at("catalog").at("text").get<std::string>();
    const std::string services_source = doc.at("services").at("source").get<std::string>();
    const std::string services_text = doc.at("services").at("text").get<std::string>();
    const Catalog catalog = load_catalog_text(catalog_text, catalog_source);
    const ServiceNameResolver services = ServiceNameResolver::parse(services_text, services_source);
    Policy policy = load_policy_text(text, source, services, catalog);
    if (const auto gp = doc.find("group_policy"); gp != doc.end()) {
      std::vector<PolicyRegistryValue> values;
      for (const auto& v : *gp)
        values.push_back({v.at("key").get<std::string>(), v.at("name").get<std::string>(),
                          RawRegistryValue{v.at("type").get<std::uint32_t>(), from_hex(v.at("data").get<std::string>())}});
      apply_group_policy(policy, parse_group_policy(std::move(values)));
    }
    policy.accepted_utc = doc.value("accepted_utc", std::string());  // absent in copies older than issue 18
    return policy;
  } catch (const nlohmann::json::exception& e) {
    throw PolicyError({{name, 0, 0, std::string("the last known good policy is damaged (") + e.what() + "); delete it, and the next valid policy replaces it"}});
  }
}

} // namespace portguard::config

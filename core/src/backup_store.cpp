#include "portguard/core/backup_store.hpp"

#include "portguard/core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace portguard {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int backup_format = 1;
constexpr std::string_view backup_extension = ".json";

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "cannot open the file for reading");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::tm utc_tm(std::time_t t) {
  std::tm tm{};
#ifdef _WIN32
  gmtime_s(&tm, &t);
#else
  gmtime_r(&t, &tm);
#endif
  return tm;
}

/// `t` in UTC with millisecond precision; `format` takes year, month, day, hour, minute, second
/// and milliseconds as seven ints, in that order.
std::string format_utc(std::chrono::system_clock::time_point t, const char* format) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::tm tm = utc_tm(static_cast<std::time_t>(ms / 1000));
  char buf[96];
  std::snprintf(buf, sizeof buf, format, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

/// "20261126T190512.123Z": the timestamp part of a backup id, sortable as text.
std::string compact_utc(std::chrono::system_clock::time_point t) { return format_utc(t, "%04d%02d%02dT%02d%02d%02d.%03dZ"); }

json reservation_json(const PersistentReservation& r) {
  return json{{"protocol", std::string(to_string(r.protocol))}, {"start", r.start}, {"count", r.count}};
}

PersistentReservation reservation_from(const json& j) {
  PersistentReservation r;
  const auto protocol = parse_protocol(j.at("protocol").get<std::string>());
  if (!protocol) throw InputError("protocol", "expected \"udp\" or \"tcp\"");
  r.protocol = *protocol;
  const auto start = j.at("start").get<long>();
  const auto count = j.at("count").get<long>();
  if (start < 1 || start > 65535 || count < 1 || start + count - 1 > 65535)
    throw InputError("start/count", "block " + std::to_string(start) + "+" + std::to_string(count) + " is outside 1..65535");
  r.start = static_cast<Port>(start);
  r.count = static_cast<std::uint16_t>(count);
  return r;
}

bool is_backup_file(const fs::directory_entry& e) {
  return e.is_regular_file() && e.path().extension() == backup_extension;
}

} // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point t) { return format_utc(t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ"); }

void write_file_atomically(const fs::path& file, std::string_view contents, ParentFolder parent) {
  static std::atomic<unsigned> counter{0};
  if (file.has_parent_path()) {
    if (parent == ParentFolder::create) {
      fs::create_directories(file.parent_path());
    } else if (std::error_code ec; !fs::is_directory(file.parent_path(), ec)) {
      throw Error("cannot write " + file.string() + ": the folder " + file.parent_path().string() + " does not exist");
    }
  }
  fs::path temp = file;
  temp += ".tmp" + std::to_string(++counter);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot create " + temp.string() + ": check that the directory exists and is writable");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ignored;
      fs::remove(temp, ignored);
      throw Error("cannot write " + temp.string() + " (disk full?)");
    }
  }
  // N.B. rename over an existing file is atomic on POSIX and, through MoveFileExW
  // (MOVEFILE_REPLACE_EXISTING), on Windows: readers see the old or the new file, never a torn one.
  std::error_code ec;
  fs::rename(temp, file, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw Error("cannot replace " + file.string() + ": " + ec.message());
  }
}

std::string backup_to_json(const Backup& b) {
  json j;
  j["format"] = backup_format;
  j["id"] = b.id;
  j["created_at"] = b.created_at;
  j["target"] = b.dynamic_range ? std::string("dynamic-range") : std::string(to_string(b.target));
  if (b.dynamic_range) {
    j["dynamic_range"] = json{{"method", b.dynamic_range->method}, {"protocol", std::string(to_string(b.dynamic_range->protocol))},
                              {"first", b.dynamic_range->previous.first()}, {"last", b.dynamic_range->previous.last()}};
  }
  j["protocol"] = b.protocol ? json(std::string(to_string(*b.protocol))) : json(nullptr);
  j["key"] = b.key;
  j["value"] = b.value;
  j["reason"] = b.reason;
  j["previous"] = json{{"present", b.previous.present}, {"strings", b.previous.strings}, {"type_problem", b.previous.type_problem}};
  if (b.previous_raw) {
    j["previous_raw"] = json{{"type", b.previous_raw->type}, {"type_name", reg_type_name(b.previous_raw->type)}, {"hex", to_hex(b.previous_raw->data)}};
  }
  j["previous_reservations"] = json::array();
  for (const auto& r : b.previous_reservations) j["previous_reservations"].push_back(reservation_json(r));
  return j.dump(2) + "\n";
}

Backup backup_from_json(std::string_view text, const std::string& source) {
  try {
    const json j = json::parse(text);
    if (j.at("format").get<int>() != backup_format)
      throw InputError(source, "unsupported backup format " + j.at("format").dump() + " (this PortGuard reads format 1)");
    Backup b;
    b.id = j.at("id").get<std::string>();
    b.created_at = j.at("created_at").get<std::string>();
    if (j.at("target").get<std::string>() == "dynamic-range") {
      const json& d = j.at("dynamic_range");
      const auto protocol = parse_protocol(d.at("protocol").get<std::string>());
      if (!protocol) throw InputError(source, "unknown protocol " + d.at("protocol").dump());
      b.dynamic_range = DynamicRangeBackup{d.at("method").get<std::string>(), *protocol,
                                           PortRange::make(d.at("first").get<long>(), d.at("last").get<long>())};
    } else {
      const auto target = parse_target(j.at("target").get<std::string>());
      if (!target) throw InputError(source, "unknown target " + j.at("target").dump());
      b.target = *target;
    }
    if (!j.at("protocol").is_null()) {
      b.protocol = parse_protocol(j.at("protocol").get<std::string>());
      if (!b.protocol) throw InputError(source, "unknown protocol " + j.at("protocol").dump());
    }
    b.key = j.at("key").get<std::string>();
    b.value = j.at("value").get<std::string>();
    b.reason = j.at("reason").get<std::string>();
    const json& prev = j.at("previous");
    b.previous.present = prev.at("present").get<bool>();
    b.previous.strings = prev.at("strings").get<std::vector<std::string>>();
    b.previous.type_problem = prev.at("type_problem").get<std::string>();
    if (j.contains("previous_raw")) {
      const json& raw = j.at("previous_raw");
      b.previous_raw = RawRegistryValue{raw.at("type").get<std::uint32_t>(), from_hex(raw.at("hex").get<std::string>())};
    }
    for (const auto& r : j.at("previous_reservations")) b.previous_reservations.push_back(reservation_from(r));
    return b;
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(source, std::string("not a PortGuard backup: ") + e.what());
  }
}

BackupStore::BackupStore(fs::path directory, Clock& clock, std::size_t keep)
    : directory_(std::move(directory)), clock_(clock), keep_(std::max<std::size_t>(keep, 1)) {}

std::string BackupStore::save(Backup backup) {
  fs::create_directories(directory_);
  const auto now = clock_.now();
  const std::string stamp = compact_utc(now);
  std::string name = backup.dynamic_range ? "dynamic-range-" + std::string(to_string(backup.dynamic_range->protocol))
                                          : std::string(to_string(backup.target));
  if (backup.protocol) {
    name += '-';
    name += to_string(*backup.protocol);
  }
  // Several backups in the same millisecond stay ordered by a sequence number.
  int seq = 1;
  for (const auto& e : fs::directory_iterator(directory_)) {
    if (is_backup_file(e) && e.path().filename().string().rfind(stamp, 0) == 0) ++seq;
  }
  char seq_text[16];  // room for any int: GCC's -Wformat-truncation checks the full range
  std::snprintf(seq_text, sizeof seq_text, "%04d", seq);
  backup.id = stamp + "-" + seq_text + "-" + name;
  backup.created_at = iso8601_utc(now);
  write_file_atomically(directory_ / (backup.id + std::string(backup_extension)), backup_to_json(backup), ParentFolder::create);

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(directory_)) {
    if (is_backup_file(e)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.size() > keep_) {
    for (std::size_t i = 0; i < files.size() - keep_; ++i) {
      std::error_code ignored;
      fs::remove(files[i], ignored);
    }
  }
  return backup.id;
}

std::vector<Backup> BackupStore::list(std::vector<std::string>* problems) const {
  std::vector<Backup> out;
  std::error_code ec;
  if (!fs::is_directory(directory_, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(directory_)) {
    if (is_backup_file(e)) files.push_back(e.path());
  }
  std::sort(files.rbegin(), files.rend());
  for (const auto& f : files) {
    try {
      out.push_back(backup_from_json(read_file(f), f.string()));
    } catch (const std::exception& e) {
      if (problems != nullptr) problems->push_back(e.what());
    }
  }
  return out;
}

std::optional<Backup> BackupStore::load(const std::string& id) const {
  // Ids are file names: refuse anything that could escape the directory.
  if (id.empty() || id.find_first_of("/\\:") != std::string::npos || id.find("..") != std::string::npos)
    throw InputError("backup id", "'" + id + "' is not a backup id; run 'portguard rollback --list' to see them");
  const fs::path file = directory_ / (id + std::string(backup_extension));
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  return backup_from_json(read_file(file), file.string());
}

ReservationLedger::ReservationLedger(fs::path file) : file_(std::move(file)) {}

std::vector<PersistentReservation> ReservationLedger::load() const {
  std::error_code ec;
  if (!fs::exists(file_, ec)) return {};
  try {
    const json j = json::parse(read_file(file_));
    std::vector<PersistentReservation> out;
    for (const auto& r : j.at("created")) out.push_back(reservation_from(r));
    return out;
  } catch (const InputError& e) {
    throw InputError(file_.string(), e.what());
  } catch (const std::exception& e) {
    throw InputError(file_.string(), std::string("the ledger of created reservations is broken: ") + e.what() +
                                         "; fix or remove it (the reservations themselves are untouched)");
  }
}

void ReservationLedger::store(const std::vector<PersistentReservation>& all) const {
  json j;
  j["format"] = 1;
  j["created"] = json::array();
  for (const auto& r : all) j["created"].push_back(reservation_json(r));
  write_file_atomically(file_, j.dump(2) + "\n", ParentFolder::create);
}

void ReservationLedger::add(const PersistentReservation& created) {
  auto all = load();
  if (contains(created.protocol, created.start, created.count)) return;
  all.push_back(PersistentReservation{created.protocol, created.start, created.count, 0});
  store(all);
}

void ReservationLedger::erase(Protocol protocol, Port start, std::uint16_t count) {
  auto all = load();
  const auto before = all.size();
  std::erase_if(all, [&](const auto& r) { return r.protocol == protocol && r.start == start && r.count == count; });
  if (all.size() != before) store(all);
}

bool ReservationLedger::contains(Protocol protocol, Port start, std::uint16_t count) const {
  const auto all = load();
  return std::any_of(all.begin(), all.end(), [&](const auto& r) { return r.protocol == protocol && r.start == start && r.count == count; });
}

} // namespace portguard

// Randomised property tests. Seeded and reproducible: every run prints its seed; set
// PORTGUARD_SEED=<n> to replay a failure exactly.
#include "plan_support.hpp"

#include "portguard/core/plan.hpp"
#include "portguard/core/port_list_codec.hpp"

#include <catch2/catch.hpp>

#include <bitset>
#include <cstdlib>
#include <iostream>
#include <random>

using namespace portguard;
using namespace portguard::testing;

namespace Catch {
template <>
struct StringMaker<PortSet> {
  static std::string convert(const PortSet& s) { return "{" + s.to_string() + "}"; }
};
} // namespace Catch

namespace {

std::uint64_t seed() {
  static const std::uint64_t value = [] {
    std::uint64_t s = 0;
    if (const char* env = std::getenv("PORTGUARD_SEED"); env != nullptr && *env != '\0') s = std::strtoull(env, nullptr, 10);
    else s = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    std::cout << "property tests: seed " << s << " (set PORTGUARD_SEED=" << s << " to reproduce)\n";
    return s;
  }();
  return value;
}

constexpr int iterations = 300;

class Gen {
public:
  explicit Gen(std::uint64_t salt) : rng_(seed() ^ (salt * 0x9E3779B97F4A7C15ull)) {}

  long between(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng_); }
  bool chance(int percent) { return between(1, 100) <= percent; }

  /// Ports cluster where bugs live: the edges of the port space and a small busy window.
  long port() {
    switch (between(0, 3)) {
      case 0: return between(1, 20);
      case 1: return between(65515, 65535);
      case 2: return between(1600, 1700);
      default: return between(1, 65535);
    }
  }
  PortRange range() {
    long a = port();
    long b = chance(50) ? a : std::min(65535L, a + between(0, chance(80) ? 10 : 3000));
    return PortRange::make(a, b);
  }
  PortSet set() {
    PortSet s;
    for (long n = between(0, 12); n > 0; --n) s.insert(range());
    return s;
  }
  std::string spaces() { return std::string(static_cast<std::size_t>(between(0, 2)), chance(80) ? ' ' : '\t'); }

  /// Something an admin may have typed that is not a port range.
  std::string garbage() {
    static const std::vector<std::string> pool{"abc", "0", "0-5", "65536", "1-99999", "-5", "1645-", "1645,1646", "x1645",
                                               "1645 1646", "port 53", "#1812", "1645-1646-1647", "\xff\xfe", "  junk  "};
    for (;;) {
      std::string g = pool[static_cast<std::size_t>(between(0, static_cast<long>(pool.size()) - 1))];
      if (chance(30)) g += std::to_string(between(0, 99));
      // "0" + "7" is "07", a valid port: only keep what really is not a range.
      if (!parse_port_list({g}).unrecognised.empty()) return g;
    }
  }
  /// One raw entry in any of the forms the codec must accept, or a blank, or garbage.
  std::string entry() {
    const auto r = range();
    switch (between(0, 9)) {
      case 0: return "";
      case 1: return garbage();
      case 2: return spaces() + std::to_string(r.first()) + spaces();  // single port
      case 3: return std::to_string(r.last()) + "-" + std::to_string(r.first());  // maybe reversed
      case 4: return spaces() + std::to_string(r.first()) + spaces() + "-" + spaces() + std::to_string(r.last()) + spaces();
      default: return r.to_string();
    }
  }
  std::vector<std::string> entries() {
    std::vector<std::string> v;
    for (long n = between(0, 10); n > 0; --n) v.push_back(entry());
    return v;
  }

  std::mt19937_64& rng() { return rng_; }

private:
  std::mt19937_64 rng_;
};

using Bits = std::bitset<65536>;

Bits bits(const PortSet& s) {
  Bits b;
  for (const auto& r : s)
    for (std::uint32_t p = r.first(); p <= r.last(); ++p) b.set(p);
  return b;
}

bool well_formed(const PortSet& s) {
  const auto& r = s.ranges();
  for (std::size_t i = 1; i < r.size(); ++i)
    if (std::uint32_t{r[i - 1].last()} + 1 >= r[i].first()) return false;
  return true;
}

HostSnapshot random_host(Gen& g) {
  HostSnapshot h = g.chance(40) ? host_2003() : host_2016();
  if (g.chance(30)) h.services.erase(h.services.begin());  // no DNS server
  h.reserved_ports = g.chance(20) ? MultiStringValue{} : multi(g.entries());
  if (g.chance(10)) h.reserved_ports.type_problem = "value has type REG_SZ, expected REG_MULTI_SZ";
  h.dns_socket_pool_excluded = g.chance(30) ? MultiStringValue{} : multi(g.entries());
  if (h.version.major >= 6 && g.chance(85)) {
    // Existing reservations never overlap one another (the API refuses that).
    std::vector<PersistentReservation> list;
    for (Protocol p : {Protocol::udp, Protocol::tcp})
      for (const auto& r : g.set())
        list.push_back({p, r.first(), static_cast<std::uint16_t>(r.size()), static_cast<std::uint64_t>(g.between(1, 1000))});
    h.persistent_reservations = std::move(list);
  } else {
    h.persistent_reservations.reset();
  }
  return h;
}

Requirements random_requirements(Gen& g) {
  Requirements out;
  static const std::vector<std::string> services{"IAS", "DNS", "SNMP", ""};
  for (long n = g.between(0, 8); n > 0; --n) {
    const auto& s = services[static_cast<std::size_t>(g.between(0, 3))];
    auto r = g.range();
    out.push_back(req(g.chance(60) ? Protocol::udp : Protocol::tcp, r.first(), r.last(), s, "random need"));
  }
  return out;
}

PlanSettings random_settings(Gen& g) {
  PlanSettings s;
  s.mode = g.chance(50) ? Mode::merge : Mode::exact;
  if (g.chance(25)) {
    std::vector<Target> t;
    for (const auto& i : all_targets())
      if (g.chance(50)) t.push_back(i.target);
    s.targets = t;
  }
  return s;
}

} // namespace

TEST_CASE("property: parse(format(x)) == x for port sets and unrecognised entries") {
  Gen g(1);
  for (int i = 0; i < iterations; ++i) {
    const PortSet s = g.set();
    std::vector<std::string> unrecognised;
    for (long n = g.between(0, 3); n > 0; --n) unrecognised.push_back(g.garbage());
    const auto formatted = format_port_list(s, unrecognised);
    const auto parsed = parse_port_list(formatted);
    INFO("seed " << seed() << " iteration " << i << " set " << s.to_string());
    REQUIRE(parsed.ports == s);
    REQUIRE(parsed.unrecognised == unrecognised);
    REQUIRE(parsed.blank_entries == 0);
    // Canonical: parsing adds no remarks, and formatting again changes nothing.
    for (const auto& e : parsed.entries)
      if (e.range) REQUIRE(e.problem.empty());
    REQUIRE(format_port_list(parsed.ports, parsed.unrecognised) == formatted);
  }
}

TEST_CASE("property: the codec keeps every entry of any admin-typed list") {
  Gen g(2);
  for (int i = 0; i < iterations; ++i) {
    const auto raw = g.entries();
    const auto list = parse_port_list(raw);
    INFO("seed " << seed() << " iteration " << i);
    REQUIRE(list.entries.size() == raw.size());
    std::size_t understood = 0;
    Bits expected;
    for (std::size_t k = 0; k < raw.size(); ++k) {
      REQUIRE(list.entries[k].raw == raw[k]);
      if (list.entries[k].range) {
        ++understood;
        for (std::uint32_t p = list.entries[k].range->first(); p <= list.entries[k].range->last(); ++p) expected.set(p);
      }
    }
    REQUIRE(understood + list.unrecognised.size() + list.blank_entries == raw.size());
    REQUIRE(bits(list.ports) == expected);
    const auto again = parse_port_list(format_port_list(list.ports, list.unrecognised));
    REQUIRE(again.ports == list.ports);
    REQUIRE(again.unrecognised == list.unrecognised);
  }
}

TEST_CASE("property: PortSet operations agree with a bitset model and keep their invariant") {
  Gen g(3);
  for (int i = 0; i < iterations; ++i) {
    const PortSet a = g.set();
    const PortSet b = g.set();
    const Bits A = bits(a);
    const Bits B = bits(b);
    INFO("seed " << seed() << " iteration " << i << " a=" << a.to_string() << " b=" << b.to_string());
    const PortSet u = a.united(b);
    const PortSet d = a.minus(b);
    const PortSet n = a.intersected(b);
    REQUIRE(well_formed(u));
    REQUIRE(well_formed(d));
    REQUIRE(well_formed(n));
    REQUIRE(bits(u) == (A | B));
    REQUIRE(bits(d) == (A & ~B));
    REQUIRE(bits(n) == (A & B));
    REQUIRE(u == b.united(a));
    REQUIRE(n == b.intersected(a));
    REQUIRE(d.united(n) == a);
    REQUIRE(d.intersected(b).empty());
    REQUIRE(u.count() == a.count() + b.count() - n.count());
    REQUIRE(a.united(a) == a);
    REQUIRE(a.minus(a).empty());

    PortSet m = a;
    const PortRange r = g.range();
    m.insert(r);
    REQUIRE(well_formed(m));
    REQUIRE(m.contains(r));
    REQUIRE(m == a.united(PortSet{r}));
    m = a;
    m.erase(r);
    REQUIRE(well_formed(m));
    REQUIRE_FALSE(m.intersects(r));
    REQUIRE(m == a.minus(PortSet{r}));
    const Port p = static_cast<Port>(g.port());
    REQUIRE(a.contains(p) == A.test(p));
    REQUIRE(a.intersects(r) == (A & bits(PortSet{r})).any());
    REQUIRE(a.contains(r) == ((A & bits(PortSet{r})) == bits(PortSet{r})));
  }
}

TEST_CASE("property: planning against the applied result yields no changes") {
  Gen g(4);
  for (int i = 0; i < iterations; ++i) {
    const auto host = random_host(g);
    const auto reqs = random_requirements(g);
    const auto settings = random_settings(g);
    INFO("seed " << seed() << " iteration " << i);
    const auto first = plan(host, reqs, settings);
    const auto after = apply_plan(host, first);
    const auto second = plan(after, reqs, settings);
    INFO(render_text(first) << "\n--- after apply ---\n" << render_text(second));
    REQUIRE_FALSE(second.has_changes());
    REQUIRE(render_json(plan(host, reqs, settings)) == render_json(first));  // deterministic
  }
}

TEST_CASE("property: merge never removes an existing valid entry; unrecognised entries always survive") {
  Gen g(5);
  for (int i = 0; i < iterations; ++i) {
    const auto host = random_host(g);
    const auto reqs = random_requirements(g);
    auto settings = random_settings(g);
    INFO("seed " << seed() << " iteration " << i);
    const auto p = plan(host, reqs, settings);
    for (const auto& t : p.targets) {
      if (t.target == Target::persistent_reservation) {
        if (settings.mode == Mode::merge) REQUIRE(t.removed.empty());
        continue;
      }
      const auto before = parse_port_list(t.current);
      const auto after = parse_port_list(t.desired);
      for (const auto& u : before.unrecognised)
        REQUIRE(std::find(t.desired.begin(), t.desired.end(), u) != t.desired.end());
      REQUIRE(after.unrecognised == before.unrecognised);
      if (settings.mode == Mode::merge) {
        REQUIRE(t.removed.empty());
        REQUIRE(before.ports.minus(after.ports).empty());
      }
      // Whatever the mode, every required port the target receives (docs/policy.md, "What each
      // target holds": 1025 and up; the DNS pool: UDP, not DNS's own, inside the dynamic range)
      // ends up in the desired value.
      if (t.available) {
        for (const auto& r : reqs) {
          if (r.ports.last() < 1025) continue;
          PortSet needed{PortRange::make(std::max<long>(r.ports.first(), 1025), r.ports.last())};
          if (t.target == Target::dns_socket_pool) {
            if (r.protocol != Protocol::udp || r.service == "DNS") continue;
            if (const auto dyn = host.dynamic_range(Protocol::udp)) needed = needed.intersected(PortSet{dyn->range});
          }
          for (const auto& part : needed) REQUIRE(after.ports.contains(part));
        }
      }
    }
  }
}

#pragma once
// `portguard why PORT[/udp|/tcp]`: one port, every reason it may not be bindable, from one
// assessment of a host (live or a snapshot file). Pure: the command supplies the assessment and,
// on a live host, the answer of one exclusive bind; everything else is read here.
#include "portguard/core/assess.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace portguard {

struct PortQuery {
  Protocol protocol = Protocol::tcp;
  Port port = 0;
};

/// "3000/tcp", "1812/UDP" or "3000" (both protocols: TCP, then UDP). Throws InputError naming what
/// is wrong ("0", "70000", "3000/sctp", "radius").
std::vector<PortQuery> parse_port_query(std::string_view text);

/// What stands in the way of binding the port, most severe first.
enum class PortState : std::uint8_t {
  free,                 // nothing holds it (as captured, for a snapshot file: nothing was bound offline)
  in_use_by_owner,      // bound by the service that needs it
  in_use,               // bound by another process
  excluded_by_system,   // inside a range HNS/WinNAT hold at run time: every bind fails (WSAEACCES)
};
std::string_view to_string(PortState) noexcept;  // "free", "in-use-by-owner", "in-use", "excluded-by-system"

struct PortAnswer {
  PortQuery query;
  PortState state = PortState::free;
  BindOutcome probe = BindOutcome::not_probed;        // the live exclusive bind, if one was made
  std::vector<PortInUse> holders;                     // rows of the connection tables (services named)
  std::optional<DynamicPortRange> dynamic;            // the protocol's dynamic range, if known
  bool in_dynamic_range = false;
  bool exclusions_known = false;                      // the capture lists excluded ranges
  std::vector<ExcludedRange> exclusions;              // the excluded ranges containing the port
  std::vector<std::string> reserved_by;               // "persistent reservation 1645-1646/udp", ...
  std::vector<Requirement> required_by;
  std::vector<Finding> findings;                      // the plan's findings about this port
  std::vector<std::string> advice;                    // what to do, one sentence each

  /// True when nothing stands in the way: the port is free or held by its own service, and no
  /// warning or error of the plan concerns it (exit code 0 of `portguard why`).
  bool clear() const noexcept;
};

/// `probe`: the live exclusive bind of the port (BindOutcome::not_probed offline).
PortAnswer answer_why(const Assessment& assessment, PortQuery query, BindOutcome probe);

/// The text `portguard why` prints (docs/cli.md), one block per answer.
std::string render_why_text(const Assessment& assessment, const std::vector<PortAnswer>& answers);
/// The same as JSON (docs/cli.md).
std::string render_why_json(const Assessment& assessment, const std::vector<PortAnswer>& answers);

} // namespace portguard

// portguard why PORT[/udp|/tcp] [--policy FILE] [--snapshot HOST.json] [--services-file F] [--json]
// Why a port cannot be bound (or may not be, later): the core's answer (portguard/core/why.hpp)
// over the same assessment `plan` makes, live or on a snapshot file.
// Exit: 0 nothing stands in the way, 1 something does (held, blocked, at risk), 2 the policy or
// snapshot cannot be read (or the capture failed), 64 bad command line.
#include "portguard/commands/options.hpp"
#include "portguard/commands/host.hpp"
#include "portguard/commands/policy_commands.hpp"

#include "portguard/core/error.hpp"
#include "portguard/core/why.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <ostream>

namespace portguard::cli {

namespace po = boost::program_options;

int command_why(const std::vector<std::string>& args, Io io) {
  const po::options_description options =
      assessment_options(io.host, "policy file (who needs the port, and why)",
                         "answer for a captured host (docs/snapshot.md); without it the live host (Windows only)", "print the answer as JSON");
  constexpr std::string_view about =
      "Says why a port cannot be bound, or may not be later: who holds it (process and service),\n"
      "whether it lies inside the dynamic range or an excluded range (administered, or held by the\n"
      "system for Hyper-V/WSL/Docker), what reserves it, which service needs it and why, and what\n"
      "to do. PORT alone answers for TCP and UDP. On the live host a port the connection tables\n"
      "show free is bound exclusively for a moment, to tell an excluded range (WSAEACCES) from a\n"
      "free port. Never changes anything.\n"
      "Exit codes: 0 nothing stands in the way, 1 something does (held by another process, blocked\n"
      "by an excluded range, or at risk), 2 unreadable input, 64 bad command line.\n\n";
  po::variables_map vm;
  if (const auto stop = parse_command_line("why", options, about, args, vm, io, Operand{"PORT[/udp|/tcp]", "port"})) return *stop;

  std::vector<PortQuery> queries;
  try {
    queries = parse_port_query(vm["port"].as<std::string>());
  } catch (const InputError& e) {
    io.err << "portguard why: " << e.what() << "\nUsage: " << usage_line("why", options, "PORT[/udp|/tcp]") << "\n";
    return exit_usage;
  }
  if (vm.count("snapshot") == 0 && !io.host.live()) {
    io.err << "portguard why: --snapshot FILE is required in this build (reading the live host needs Windows)\n";
    return exit_usage;
  }

  Assessment assessment;
  if (const auto failed = assess_policy_or_snapshot(vm, "why", io, assessment)) return *failed;
  const bool live = vm.count("snapshot") == 0;

  std::vector<PortAnswer> answers;
  for (const PortQuery& q : queries) {
    // Only a port the tables show free is bound: binding a held one would tell nothing new.
    const bool listed = std::any_of(assessment.host.ports_in_use.begin(), assessment.host.ports_in_use.end(),
                                    [&](const PortInUse& u) { return u.protocol == q.protocol && u.port == q.port; });
    const BindOutcome probe = live && !listed ? io.host.try_exclusive_bind(q.protocol, q.port) : BindOutcome::not_probed;
    answers.push_back(answer_why(assessment, q, probe));
  }
  io.out << (vm.count("json") != 0 ? render_why_json(assessment, answers) : render_why_text(assessment, answers));
  return std::all_of(answers.begin(), answers.end(), [](const PortAnswer& a) { return a.clear(); }) ? exit_ok : exit_failed;
}

} // namespace portguard::cli

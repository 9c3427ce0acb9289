#include "portguard/commands/options.hpp"
#include "portguard/commands/host.hpp"

#include "portguard/config/services_file.hpp"

#include <algorithm>
#include <ostream>

namespace portguard::cli {
namespace po = boost::program_options;

namespace {

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

/// The option a stray argument was probably meant for: a .toml is a policy, a .json a snapshot
/// (plan) or an output file (snapshot); otherwise the command's first option that takes a value.
std::string probable_option(const po::options_description& options, const std::string& argument) {
  auto offers = [&](const char* name) { return options.find_nothrow(name, false) != nullptr; };
  if (ends_with(argument, ".toml") && offers("policy")) return "policy";
  if (ends_with(argument, ".json") && offers("snapshot")) return "snapshot";
  if (ends_with(argument, ".json") && offers("output")) return "output";
  for (const auto& o : options.options())
    if (o->semantic()->max_tokens() > 0) return o->long_name();
  return {};
}

} // namespace

std::string usage_line(std::string_view command, const po::options_description& options, std::string_view operand) {
  std::string line = "portguard " + std::string(command);
  if (!operand.empty()) line += " " + std::string(operand);
  for (const auto& o : options.options()) {
    if (o->long_name() == "help") continue;
    std::string item = "--" + o->long_name();
    if (o->semantic()->max_tokens() > 0) {
      std::string value = o->semantic()->name();
      value = value.substr(0, value.find(" (="));  // Boost appends the default: "FILE (=policy.toml)"
      item += " " + value;
      if (o->semantic()->is_composing()) item += "...";
    }
    line += " [" + item + "]";
  }
  return line;
}

std::optional<std::string> parse_options(const po::options_description& options, const std::vector<std::string>& args,
                                         po::variables_map& vm, const Operand& operand) {
  try {
    // The operand is a hidden option filled by position, so that --help lists the options alone.
    po::options_description all;
    all.add(options);
    po::positional_options_description positional;
    const std::string key(operand.key);
    if (!key.empty()) {
      all.add_options()(key.c_str(), po::value<std::string>());
      positional.add(key.c_str(), 1);
    }
    po::command_line_parser parser(args);
    parser.options(all);
    if (!key.empty()) parser.positional(positional);   // else Boost keeps stray arguments aside (below)
    const po::parsed_options parsed = parser.run();
    // Without a positional description Boost keeps stray arguments aside instead of refusing them:
    // `validate bad.toml` would validate ./policy.toml and say "valid".
    // The operand is positional by design: only other positional or unknown arguments are stray.
    std::vector<std::string> stray;
    for (const auto& o : parsed.options)
      if (o.unregistered || (o.position_key >= 0 && (key.empty() || o.string_key != key)))
        stray.insert(stray.end(), o.original_tokens.begin(), o.original_tokens.end());
    if (!stray.empty()) {
      std::string what = "unexpected argument '" + stray.front() + "'";
      if (const std::string meant = probable_option(options, stray.front()); !meant.empty())
        what += "; did you mean --" + meant + " " + stray.front() + "?";
      return what;
    }
    po::store(parsed, vm);
    po::notify(vm);
    if (!key.empty() && vm.count(key) == 0 && vm.count("help") == 0) return "missing " + std::string(operand.usage);
  } catch (const po::error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

std::optional<int> parse_command_line(std::string_view command, const po::options_description& options, std::string_view about,
                                      const std::vector<std::string>& args, po::variables_map& vm, Io io, const Operand& operand) {
  if (const auto wrong = parse_options(options, args, vm, operand)) {
    io.err << "portguard " << command << ": " << *wrong << "\nUsage: " << usage_line(command, options, operand.usage) << "\n"
           << "Run 'portguard " << command << " --help' for what each option does.\n";
    return exit_usage;
  }
  if (vm.count("help") != 0) {
    io.out << "Usage: " << usage_line(command, options, operand.usage) << "\n\n" << about << options;
    return exit_ok;
  }
  return std::nullopt;
}

po::options_description run_options() {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("console", "run in this console instead of as a service")
      ("once", "with --console: run the first check-and-repair pass, then exit")
      ("policy", po::value<std::string>()->value_name("FILE"), "policy file (default: policy.toml in the data folder)")
      ("data-dir", po::value<std::string>()->value_name("DIR"),
       "state, backups and logs folder (default: the recorded DataDir, %ProgramData%\\PortGuard)");
  return options;
}

void add_policy_option(po::options_description& options, Host& host, const char* help) {
  options.add_options()("policy", po::value<std::string>()->value_name("FILE")->default_value(host.default_policy_file()), help);
}

void add_snapshot_option(po::options_description& options, const char* help) {
  options.add_options()("snapshot", po::value<std::string>()->value_name("HOST.json"), help);
}

void add_services_file_option(po::options_description& options, Host& host) {
  options.add_options()("services-file", po::value<std::string>()->value_name("FILE")->default_value(host.services_file()),
                        "services file that resolves port names such as \"radius\"");
}

int report_policy_error(const config::PolicyError& e, std::string_view command, const std::string& file, Io io) {
  const bool unreadable = dynamic_cast<const config::PolicyReadError*>(&e) != nullptr;
  for (const auto& d : e.diagnostics()) io.err << d.to_string() << '\n';
  if (dynamic_cast<const config::GroupPolicyError*>(&e) != nullptr) {
    io.err << "portguard " << command << ": the Group Policy settings under " << config::group_policy_keys::root
           << " are invalid; correct them in the GPO (PortGuard.admx, docs/policy.md), run gpupdate /target:computer and run again\n";
    return exit_failed;
  }
  const bool refused = dynamic_cast<const PolicyRefusedError*>(&e) != nullptr;
  io.err << "portguard " << command << ": the policy " << file << " is " << (unreadable ? "unreadable" : refused ? "refused" : "invalid")
         << "; fix it (portguard validate --policy " << file << ") and run again\n";
  return unreadable ? exit_error : exit_failed;
}

PolicyRefusedError::PolicyRefusedError(const std::string& file, std::string writers)
    : config::PolicyError({{file, 0, 0,
                            "policy refused: writable by " + writers +
                                "; the service refuses a policy such an account could change (event 3007, docs/events.md "
                                "says how to restrict the permissions)"}}),
      writers_(std::move(writers)) {}

namespace {

config::Policy with_group_policy(Host& host, config::Policy policy) {
  if (const auto settings = host.machine_group_policy()) config::apply_group_policy(policy, *settings);
  return policy;
}

} // namespace

config::Policy load_accepted_policy(Host& host, const std::filesystem::path& file, const std::filesystem::path& services_file) {
  config::Policy policy = config::load_policy(file, services_file);
  std::string writers;
  try {
    writers = host.policy_writers(file);
  } catch (const std::exception&) {
    return with_group_policy(host, std::move(policy));
  }
  if (!writers.empty()) throw PolicyRefusedError(file.string(), writers);
  return with_group_policy(host, std::move(policy));
}

} // namespace portguard::cli

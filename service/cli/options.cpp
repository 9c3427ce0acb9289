#include "cli/options.hpp"

#include <ostream>

namespace portguard::cli {
namespace po = boost::program_options;

std::optional<int> parse_command_line(std::string_view command, const po::options_description& options, std::string_view about,
                                      const std::vector<std::string>& args, po::variables_map& vm, Io io) {
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    io.err << "portguard " << command << ": " << e.what() << "\n" << options;
    return exit_usage;
  }
  if (vm.count("help") != 0) {
    io.out << about << options;
    return exit_ok;
  }
  return std::nullopt;
}

int report_policy_error(const config::PolicyError& e, std::string_view command, const std::string& file, Io io) {
  const bool unreadable = dynamic_cast<const config::PolicyReadError*>(&e) != nullptr;
  for (const auto& d : e.diagnostics()) io.err << d.to_string() << '\n';
  const bool refused = dynamic_cast<const PolicyRefusedError*>(&e) != nullptr;
  io.err << "portguard " << command << ": the policy " << file << " is " << (unreadable ? "unreadable" : refused ? "refused" : "invalid")
         << "; fix it (portguard validate --policy " << file << ") and run again\n";
  return unreadable ? exit_error : exit_failed;
}

PolicyWritersFn policy_writers = nullptr;

PolicyRefusedError::PolicyRefusedError(const std::string& file, std::string writers)
    : config::PolicyError({{file, 0, 0,
                            "policy refused: writable by " + writers +
                                "; the service refuses a policy such an account could change (event 3007, docs/events.md "
                                "says how to restrict the permissions)"}}),
      writers_(std::move(writers)) {}

config::Policy load_accepted_policy(const std::filesystem::path& file, const std::filesystem::path& services_file) {
  config::Policy policy = config::load_policy(file, services_file);
  if (policy_writers == nullptr) return policy;
  std::string writers;
  try {
    writers = policy_writers(file);
  } catch (const std::exception&) {
    return policy;
  }
  if (!writers.empty()) throw PolicyRefusedError(file.string(), writers);
  return policy;
}

} // namespace portguard::cli

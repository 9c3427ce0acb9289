#include "portguard/host/logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <vector>

namespace portguard::win32 {

std::shared_ptr<spdlog::logger> make_logger(const std::filesystem::path& logs_dir, bool console) {
  std::vector<spdlog::sink_ptr> sinks;
  if (console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  std::string problem;
  if (!logs_dir.empty()) {
    try {
      std::filesystem::create_directories(logs_dir);
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>((logs_dir / "portguard.log").string(), 5 * 1024 * 1024, 5));
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  auto logger = std::make_shared<spdlog::logger>("portguard", sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::debug);  // a service may be killed at any time: never lose the last lines
  if (!problem.empty()) logger->warn("no file log in {}: {}", logs_dir.string(), problem);
  return logger;
}

} // namespace portguard::win32

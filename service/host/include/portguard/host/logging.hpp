#pragma once
// The file log is for diagnosis (the Event Log is for alerts): a rotating file in
// %ProgramData%\PortGuard\logs\portguard.log (5 files of 5 MB), plus the console in console mode.
#include <spdlog/logger.h>

#include <filesystem>
#include <memory>

namespace portguard::win32 {

/// Never throws: if the log directory cannot be created the logger keeps the other sinks and
/// says so on them. An empty `logs_dir` means no file log.
std::shared_ptr<spdlog::logger> make_logger(const std::filesystem::path& logs_dir, bool console);

} // namespace portguard::win32

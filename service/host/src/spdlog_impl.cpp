// spdlog's implementation, compiled once. The MinGW build uses spdlog in its "compiled library"
// mode (SPDLOG_COMPILED_LIB, set on portguard::spdlog in cmake/PortGuardDependencies.cmake):
// Debian ships no MinGW build of the library, only its headers, and in header-only mode every file
// that includes <spdlog/logger.h> compiled the whole library again (about 27 s of GCC time each).
// Here the library's own *-inl.h headers are compiled, and the templates PortGuard uses are
// instantiated: the sinks of win32/logging.cpp. A sink added there needs its line below (the link
// fails otherwise, naming it). spdlog's default console logger is disabled
// (SPDLOG_DISABLE_DEFAULT_LOGGER): PortGuard never uses it, and its colour sink would add console
// imports that tests/scenarios/imports-2003.txt has no reason to carry.
#ifndef SPDLOG_COMPILED_LIB
#error "portguard::spdlog must define SPDLOG_COMPILED_LIB where this file is built"
#endif

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/file_helper-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/rotating_file_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

#include <mutex>

template class spdlog::sinks::base_sink<std::mutex>;
template class spdlog::sinks::rotating_file_sink<std::mutex>;
template class spdlog::sinks::stdout_sink_base<spdlog::details::console_mutex>;
template class spdlog::sinks::stderr_sink<spdlog::details::console_mutex>;

// radius-sim.exe: IAS / NPS as far as the outage is concerned. Installed as the service `IAS`, it
// binds its fixed RADIUS ports UDP 1645, 1646, 1812, 1813 exclusively (SO_EXCLUSIVEADDRUSE, as
// a security-sensitive Windows service does) and holds them until stopped.
//
// If any port is taken it does what the real service does from the SCM's point of view: it
// fails to start, reporting SERVICE_STOPPED with dwWin32ExitCode = the WinSock error
// (WSAEADDRINUSE 10048, "Only one usage of each socket address ... is normally permitted";
// WSAEACCES 10013 when an exclusive holder or a runtime-excluded range blocks it), and writes
// "radius-sim: cannot bind UDP 1645: WSAEADDRINUSE (10048) <text>" to C:\e2e\radius-sim.log.
//   --ports A,B,...   other ports (tests only)       --console   run without the SCM
#include "sim_common.hpp"

namespace {

std::vector<unsigned> ports_from(int argc, wchar_t** argv) {
  std::vector<unsigned> ports = {1645, 1646, 1812, 1813};
  if (const wchar_t* list = e2e::arg_value(argc, argv, L"--ports")) {
    ports.clear();
    std::wstring s = list;
    size_t pos = 0;
    while (pos <= s.size()) {
      const size_t comma = s.find(L',', pos);
      const std::wstring item = s.substr(pos, comma == std::wstring::npos ? std::wstring::npos : comma - pos);
      if (!item.empty()) ports.push_back(static_cast<unsigned>(wcstoul(item.c_str(), nullptr, 10)));
      if (comma == std::wstring::npos) break;
      pos = comma + 1;
    }
  }
  return ports;
}

e2e::SocketSet& sockets() {
  static e2e::SocketSet s;
  return s;
}

DWORD start(int argc, wchar_t** argv, e2e::Log& log) {
  WSADATA wsa;
  if (int rc = ::WSAStartup(MAKEWORD(2, 2), &wsa)) return static_cast<DWORD>(rc);
  const auto ports = ports_from(argc, argv);
  std::string list;
  for (unsigned p : ports) {
    const int err = sockets().bind_udp(p, true);
    if (err != 0) {
      log.line("radius-sim: cannot bind UDP %u: %s (%d) %s", p, e2e::wsa_name(err), err,
               e2e::error_text(static_cast<DWORD>(err)).c_str());
      log.line("radius-sim: failed to start (Win32 exit code %d)", err);
      return static_cast<DWORD>(err);
    }
    if (!list.empty()) list += ",";
    list += std::to_string(p);
  }
  log.line("radius-sim: started, listening on UDP %s", list.c_str());
  return 0;
}

} // namespace

int wmain(int argc, wchar_t** argv) {
  e2e::Log log(L"radius-sim");
  auto& host = e2e::ServiceHost::instance();
  if (e2e::has_flag(argc, argv, L"--console")) return host.run_console(argc, argv, &start, log, true);
  if (host.run_as_service(L"IAS", &start, log, [] { sockets().close_all(); })) return 0;
  std::fputs("radius-sim: not started by the service control manager; use --console to run interactively\n", stderr);
  return 1;
}

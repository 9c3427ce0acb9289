// pg-sleeper.exe: a tiny stand-in process for the discovery tests.
//   pg-sleeper service            run as a Win32 service (any name): RUNNING until STOP
//   pg-sleeper hold udp|tcp PORT  bind the port exclusively (TCP: listen), print "ready", stay
//                                 until killed or 300 s pass
#include "portguard/adapters/unique_handle.hpp"

#include <cstdio>
#include <cwchar>
#include <string>

namespace {

SERVICE_STATUS_HANDLE g_status = nullptr;
HANDLE g_stop = nullptr;
SERVICE_STATUS g_state{SERVICE_WIN32_OWN_PROCESS, SERVICE_START_PENDING, 0, NO_ERROR, 0, 0, 0};

DWORD WINAPI handler(DWORD control, DWORD, void*, void*) {
  if (control == SERVICE_CONTROL_STOP) {
    g_state.dwCurrentState = SERVICE_STOP_PENDING;
    ::SetServiceStatus(g_status, &g_state);
    ::SetEvent(g_stop);
  }
  return NO_ERROR;
}

void WINAPI service_main(DWORD, LPWSTR* argv) {
  g_status = ::RegisterServiceCtrlHandlerExW(argv[0], &handler, nullptr);
  if (g_status == nullptr) return;
  g_stop = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  g_state.dwCurrentState = SERVICE_RUNNING;
  g_state.dwControlsAccepted = SERVICE_ACCEPT_STOP;
  ::SetServiceStatus(g_status, &g_state);
  ::WaitForSingleObject(g_stop, INFINITE);
  g_state.dwCurrentState = SERVICE_STOPPED;
  g_state.dwControlsAccepted = 0;
  ::SetServiceStatus(g_status, &g_state);
}

int hold(bool udp, int port) {
  WSADATA data;
  if (::WSAStartup(MAKEWORD(2, 2), &data) != 0) return 3;
  const portguard::win32::unique_socket owned(::socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, udp ? IPPROTO_UDP : IPPROTO_TCP));
  if (!owned) return 3;
  const SOCKET s = owned.get();
  BOOL on = TRUE;
  ::setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&on), sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = ::htons(static_cast<u_short>(port));
  // The test that started this holder probes the port with an exclusive bind of its own until it
  // is held; a probe that lands on our bind makes it fail (10013/10048) for that instant. Retry for
  // up to 30 s: only a real holder keeps the port that long (seen under load in a soak, issue 14).
  int error = 0;
  for (int attempt = 0; attempt < 600; ++attempt) {
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      error = 0;
      break;
    }
    error = ::WSAGetLastError();
    if (error != WSAEACCES && error != WSAEADDRINUSE) break;
    ::Sleep(50);
  }
  if (error != 0) {
    std::printf("bind failed %d\n", error);
    return 4;
  }
  if (!udp && ::listen(s, 1) != 0) return 5;
  std::printf("ready\n");
  std::fflush(stdout);
  ::Sleep(300000);  // the test ends it (TerminateProcess or kill) long before: a backstop only
  return 0;
}

} // namespace

int wmain(int argc, wchar_t** argv) {
  if (argc >= 2 && std::wcscmp(argv[1], L"service") == 0) {
    SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(L""), &service_main}, {nullptr, nullptr}};
    return ::StartServiceCtrlDispatcherW(table) ? 0 : 2;
  }
  if (argc >= 4 && std::wcscmp(argv[1], L"hold") == 0) return hold(std::wcscmp(argv[2], L"udp") == 0, std::stoi(argv[3]));
  std::fprintf(stderr, "usage: pg-sleeper service | hold udp|tcp PORT\n");
  return 64;
}

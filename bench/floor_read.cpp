// The floor for the boot-path benchmark (issue 9, performance 1): the least a Windows process can
// do to read what `portguard check` reads — open Tcpip\Parameters, read ReservedPorts, exit.
// Statically linked (no libstdc++/libgcc DLLs to load), no C++ runtime work beyond startup.
// Prints the value's size so the work cannot be skipped; exit 0 when the value exists, 1 if not.
#include "portguard/adapters/unique_handle.hpp"

#include <cstdio>

int wmain() {
  // unique_hkey is header-only and inlined: the floor costs what the bare calls cost.
  portguard::win32::unique_hkey key;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters", 0, KEY_QUERY_VALUE, key.put()) != ERROR_SUCCESS)
    return 2;
  static BYTE data[64 * 1024];
  DWORD type = 0, size = sizeof data;
  const LONG rc = RegQueryValueExW(key.get(), L"ReservedPorts", nullptr, &type, data, &size);
  if (rc != ERROR_SUCCESS) return 1;
  std::printf("ReservedPorts: type %lu, %lu bytes\n", static_cast<unsigned long>(type), static_cast<unsigned long>(size));
  return 0;
}

// MinGW builds only: lets portguard.exe load on Windows Server 2003.
//
// winpthreads, the MinGW-w64 runtime behind std::thread and std::mutex (linked statically), is
// built by Debian for Vista and later and imports GetTickCount64, which 2003 lacks: the loader
// would refuse the whole exe before main. Defining the import slot here, in an object linked into
// the exe, satisfies winpthreads' reference before the linker reaches kernel32's import library, so
// the import is never made. The slot calls the real function where it exists and falls back to the
// performance counter (monotonic, on every version), which is all winpthreads uses it for: timeouts.
// tests/scenarios/imports.sh fails if a Vista-only import comes back.
#if defined(__MINGW32__)
#include <windows.h>

namespace {

ULONGLONG WINAPI tick_count64() {
  using Fn = ULONGLONG(WINAPI*)();
  static const Fn real = reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(::GetModuleHandleW(L"kernel32.dll"), "GetTickCount64")));
  if (real != nullptr) return real();
  LARGE_INTEGER count{}, frequency{};
  ::QueryPerformanceCounter(&count);
  ::QueryPerformanceFrequency(&frequency);
  return static_cast<ULONGLONG>(count.QuadPart / (frequency.QuadPart / 1000));
}

} // namespace

extern "C" {
// The name the import library would define: a pointer the callers jump through.
ULONGLONG(WINAPI* __imp_GetTickCount64)() = &tick_count64;
}
#endif

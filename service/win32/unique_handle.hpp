#pragma once
// One RAII owner for every kind of Win32 handle, in the spirit of WIL's unique_any: a traits struct
// per handle kind says what "invalid" is and how to close it. Logic code never calls CloseHandle,
// RegCloseKey, CloseServiceHandle or DeregisterEventSource itself.
#include <winsock2.h>  // before <windows.h>: SOCKET and closesocket (inline only: no ws2_32 import unless used)
#include <windows.h>

#include <utility>

namespace portguard::win32 {

template <typename Traits>
class unique_handle {
public:
  using pointer = typename Traits::pointer;

  unique_handle() noexcept = default;
  explicit unique_handle(pointer h) noexcept : h_(h) {}
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  unique_handle(unique_handle&& o) noexcept : h_(o.release()) {}
  unique_handle& operator=(unique_handle&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  ~unique_handle() { reset(); }

  pointer get() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != Traits::invalid(); }

  pointer release() noexcept { return std::exchange(h_, Traits::invalid()); }

  /// Closes the owned handle. Preserves GetLastError so an error path can close and then report.
  void reset(pointer h = Traits::invalid()) noexcept {
    if (h_ != Traits::invalid()) {
      const DWORD saved = ::GetLastError();
      Traits::close(h_);
      ::SetLastError(saved);
    }
    h_ = h;
  }

  /// For APIs that return the handle through an out-parameter: closes what is owned first.
  pointer* put() noexcept {
    reset();
    return &h_;
  }

private:
  pointer h_ = Traits::invalid();
};

struct kernel_handle_traits {
  using pointer = HANDLE;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer h) noexcept { ::CloseHandle(h); }
};
/// For CreateFileW & co, which signal failure with INVALID_HANDLE_VALUE rather than NULL.
struct file_handle_traits {
  using pointer = HANDLE;
  static pointer invalid() noexcept { return INVALID_HANDLE_VALUE; }
  static void close(pointer h) noexcept { ::CloseHandle(h); }
};
struct hkey_traits {
  using pointer = HKEY;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer h) noexcept { ::RegCloseKey(h); }
};
struct sc_handle_traits {
  using pointer = SC_HANDLE;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer h) noexcept { ::CloseServiceHandle(h); }
};
struct event_source_traits {
  using pointer = HANDLE;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer h) noexcept { ::DeregisterEventSource(h); }
};
struct find_change_traits {
  using pointer = HANDLE;
  static pointer invalid() noexcept { return INVALID_HANDLE_VALUE; }
  static void close(pointer h) noexcept { ::FindCloseChangeNotification(h); }
};
struct hlocal_traits {
  using pointer = HLOCAL;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer h) noexcept { ::LocalFree(h); }
};
struct hmodule_traits {
  using pointer = HMODULE;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer h) noexcept { ::FreeLibrary(h); }
};

struct socket_traits {
  using pointer = SOCKET;
  static pointer invalid() noexcept { return INVALID_SOCKET; }
  static void close(pointer s) noexcept { ::closesocket(s); }
};

using unique_handle_t = unique_handle<kernel_handle_traits>;  // events, processes, threads, waitable timers
using unique_file = unique_handle<file_handle_traits>;
using unique_hkey = unique_handle<hkey_traits>;
using unique_schandle = unique_handle<sc_handle_traits>;
using unique_event_source = unique_handle<event_source_traits>;
using unique_find_change = unique_handle<find_change_traits>;
using unique_hlocal = unique_handle<hlocal_traits>;
using unique_hmodule = unique_handle<hmodule_traits>;
using unique_socket = unique_handle<socket_traits>;

} // namespace portguard::win32

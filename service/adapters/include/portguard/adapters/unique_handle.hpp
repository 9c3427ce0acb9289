#pragma once
// One RAII owner for every kind of Win32 resource, in the spirit of WIL's unique_any: a traits type
// says what "none" is and how to close it. Logic code never calls CloseHandle, RegCloseKey,
// CloseServiceHandle, DeregisterEventSource, closesocket, LocalFree, Release, SysFreeString,
// VariantClear or CoUninitialize itself.
//
// Only inline bodies name the closing functions, so a program pays an import (ws2_32, the
// delay-loaded ole32/oleaut32) only for the owners it actually uses (tests/scenarios/imports.sh).
#include <winsock2.h>   // before windows.h; WIN32_LEAN_AND_MEAN (every target) keeps winsock.h out
#include <windows.h>
#include <objbase.h>    // CoInitializeEx, CoUninitialize
#include <oleauto.h>    // BSTR, VARIANT

#include <type_traits>
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

/// Traits for the handles whose "none" is NULL (most of Win32). Close: the function that frees one.
template <typename P, auto Close>
struct null_invalid {
  using pointer = P;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer h) noexcept { Close(h); }
};

/// Traits for the handles whose "none" is all bits set: INVALID_HANDLE_VALUE (CreateFileW,
/// FindFirstChangeNotificationW) and INVALID_SOCKET.
template <typename P, auto Close>
struct minus_one_invalid {
  using pointer = P;
  static pointer invalid() noexcept {
    if constexpr (std::is_pointer_v<P>)
      return reinterpret_cast<P>(static_cast<INT_PTR>(-1));   // INVALID_HANDLE_VALUE
    else
      return static_cast<P>(~P{0});                           // INVALID_SOCKET
  }
  static void close(pointer h) noexcept { Close(h); }
};

template <typename T>
void release_com(T* p) noexcept {
  p->Release();
}

using unique_handle_t = unique_handle<null_invalid<HANDLE, &::CloseHandle>>;  // events, processes, threads, waitable timers
using unique_file = unique_handle<minus_one_invalid<HANDLE, &::CloseHandle>>;  // CreateFileW & co
using unique_hkey = unique_handle<null_invalid<HKEY, &::RegCloseKey>>;
using unique_schandle = unique_handle<null_invalid<SC_HANDLE, &::CloseServiceHandle>>;
using unique_event_source = unique_handle<null_invalid<HANDLE, &::DeregisterEventSource>>;
using unique_find_change = unique_handle<minus_one_invalid<HANDLE, &::FindCloseChangeNotification>>;
using unique_hlocal = unique_handle<null_invalid<HLOCAL, &::LocalFree>>;
using unique_hmodule = unique_handle<null_invalid<HMODULE, &::FreeLibrary>>;
using unique_socket = unique_handle<minus_one_invalid<SOCKET, &::closesocket>>;   // needs ws2_32
using unique_bstr = unique_handle<null_invalid<BSTR, &::SysFreeString>>;         // oleaut32
/// A COM interface pointer, released once (the reference the call that filled it handed over).
template <typename T>
using com_ptr = unique_handle<null_invalid<T*, &release_com<T>>>;

/// A VARIANT that is cleared (VariantClear: frees a BSTR or releases an interface it holds) when it
/// goes out of scope. Starts VT_EMPTY.
class unique_variant {
public:
  unique_variant() noexcept { ::VariantInit(&v_); }
  ~unique_variant() { ::VariantClear(&v_); }
  unique_variant(const unique_variant&) = delete;
  unique_variant& operator=(const unique_variant&) = delete;

  VARIANT* get() noexcept { return &v_; }
  const VARIANT* operator->() const noexcept { return &v_; }
  VARIANT* operator->() noexcept { return &v_; }

  /// For APIs that fill a VARIANT (IWbemClassObject::Get): clears what is held first.
  VARIANT* put() noexcept {
    ::VariantClear(&v_);
    return &v_;
  }

private:
  VARIANT v_;
};

/// COM on this thread for one scope, in the multithreaded apartment. Every successful
/// CoInitializeEx (S_OK, or S_FALSE when this thread was already initialised) is balanced by one
/// CoUninitialize at scope exit; a failed one is not. A thread already in a single-threaded
/// apartment (RPC_E_CHANGED_MODE) can still make COM calls there: usable() is true, and nothing is
/// uninitialised because nothing was initialised.
class com_apartment {
public:
  com_apartment() noexcept : init_(::CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}
  ~com_apartment() {
    if (SUCCEEDED(init_)) ::CoUninitialize();
  }
  com_apartment(const com_apartment&) = delete;
  com_apartment& operator=(const com_apartment&) = delete;

  /// False when COM cannot be used on this thread at all (out of memory, COM broken).
  bool usable() const noexcept { return SUCCEEDED(init_) || init_ == RPC_E_CHANGED_MODE; }

private:
  HRESULT init_;
};

} // namespace portguard::win32

#pragma once
// PortGuard reports failures with exceptions, everywhere: the core throws the types below, the
// Win32 adapters throw portguard::win32::Win32Error (a std::system_error carrying the API name).
// Convention: "missing" is std::optional, "broken" is an exception.
#include <stdexcept>
#include <string>

namespace portguard {

/// Base of every error PortGuard raises on purpose. what() is a complete sentence for an operator.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Input text (a snapshot, a policy, a command-line value) could not be understood.
/// `where` is "file:line:column" or a value name; empty when unknown.
class InputError : public Error {
public:
  InputError(std::string where, const std::string& message)
      : Error(where.empty() ? message : where + ": " + message), where_(std::move(where)) {}
  const std::string& where() const noexcept { return where_; }

private:
  std::string where_;
};

/// A host snapshot document is malformed or of an unsupported format version.
class SnapshotError : public InputError {
public:
  using InputError::InputError;
};

/// A change was refused because applying it would be unsafe (safety rail, failed validation,
/// compare-and-swap conflict that did not settle).
class RefusedError : public Error {
public:
  using Error::Error;
};

} // namespace portguard

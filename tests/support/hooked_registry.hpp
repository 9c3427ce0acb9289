#pragma once
// A registry that calls a hook before each value read, write and delete of the store it wraps, so a
// test can make "another process" change a value between a snapshot and the compare-and-swap read
// (Windows tests wrap Win32RegistryStore; nothing in the product has such a seam).
#include "portguard/core/ports.hpp"
#include "portguard/core/registry_value.hpp"

#include <functional>
#include <string_view>

namespace portguard::testing {

class HookedRegistry : public RegistryStore, public RawRegistryAccess {
public:
  enum class Op { read, write, remove };
  using Hook = std::function<void(Op op, std::string_view key, std::string_view value)>;

  /// `inner` must offer both interfaces (Win32RegistryStore does); the Applier finds the raw one
  /// through dynamic_cast on this wrapper.
  template <class Store>
  explicit HookedRegistry(Store& inner) : store_(inner), raw_(inner) {}

  /// Runs before the wrapped store is touched; empty: no hook.
  Hook hook;

  MultiStringValue read_multi_string(std::string_view key, std::string_view value) override {
    fire(Op::read, key, value);
    return store_.read_multi_string(key, value);
  }
  void write_multi_string(std::string_view key, std::string_view value, const std::vector<std::string>& strings) override {
    fire(Op::write, key, value);
    store_.write_multi_string(key, value, strings);
  }
  void delete_value(std::string_view key, std::string_view value) override {
    fire(Op::remove, key, value);
    store_.delete_value(key, value);
  }
  std::optional<std::uint32_t> read_dword(std::string_view key, std::string_view value) override {
    fire(Op::read, key, value);
    return store_.read_dword(key, value);
  }
  std::optional<std::string> read_string(std::string_view key, std::string_view value) override {
    fire(Op::read, key, value);
    return store_.read_string(key, value);
  }
  std::vector<std::string> subkeys(std::string_view key) override { return store_.subkeys(key); }
  std::optional<std::vector<std::string>> value_names(std::string_view key) override { return store_.value_names(key); }

  std::optional<RawRegistryValue> read_raw(std::string_view key, std::string_view value) override {
    fire(Op::read, key, value);
    return raw_.read_raw(key, value);
  }
  void write_raw(std::string_view key, std::string_view value, const RawRegistryValue& raw) override {
    fire(Op::write, key, value);
    raw_.write_raw(key, value, raw);
  }

private:
  void fire(Op op, std::string_view key, std::string_view value) {
    if (hook) hook(op, key, value);
  }

  RegistryStore& store_;
  RawRegistryAccess& raw_;
};

} // namespace portguard::testing

#pragma once
// A fresh directory under the system temp dir, removed with everything in it at scope exit.
#include <filesystem>
#include <random>
#include <string>
#include <string_view>

namespace portguard::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(std::string_view prefix = "portguard-test-") {
    static std::mt19937_64 rng{std::random_device{}()};
    path = std::filesystem::temp_directory_path() / (std::string(prefix) + std::to_string(rng()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

} // namespace portguard::testing

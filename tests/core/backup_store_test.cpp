// write_file_atomically: the service's own folders are created on first use; a file the user named
// (snapshot -o) is written only into a folder that exists (issue 19, defect 3).
#include "portguard/core/backup_store.hpp"
#include "portguard/core/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using portguard::ParentFolder;
using portguard::write_file_atomically;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("pg-atomic-" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

TEST_CASE("write_file_atomically: a user-named file in a missing folder is refused, and no folder appears") {
  TempDir dir;
  const fs::path file = dir.path / "no-such-folder" / "deeper" / "host.json";
  try {
    write_file_atomically(file, "{}\n", ParentFolder::must_exist);
    FAIL("wrote into a folder that does not exist");
  } catch (const portguard::Error& e) {
    const std::string what = e.what();
    CHECK(what.find("host.json") != std::string::npos);
    CHECK(what.find("does not exist") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir.path / "no-such-folder"));
}

TEST_CASE("write_file_atomically: into an existing folder with must_exist, the file holds the contents") {
  TempDir dir;
  write_file_atomically(dir.path / "host.json", "{\"a\": 1}\n", ParentFolder::must_exist);
  CHECK(read(dir.path / "host.json") == "{\"a\": 1}\n");
}

TEST_CASE("write_file_atomically: the service's own folders are created on first use") {
  TempDir dir;
  const fs::path file = dir.path / "state" / "guard-state.json";
  write_file_atomically(file, "{}\n", ParentFolder::create);
  CHECK(read(file) == "{}\n");
}

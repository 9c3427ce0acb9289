// The encodings a Windows admin's editor produces.
#include "support.hpp"

using namespace pgtest;
using Catch::Matchers::Contains;

namespace {

const std::string policy_text = "# caf\xC3\xA9 \xE2\x82\xAC\r\n[[reserve]]\r\nports = [1812]\r\nprotocol = \"udp\"\r\nservice = \"IAS\"\r\nreason = \"RADIUS \xF0\x9F\x94\x92\"\r\n";

std::string utf16le(std::string_view utf8, bool bom) {
  std::string out = bom ? std::string("\xFF\xFE") : std::string();
  auto put = [&](char32_t u) {
    out += static_cast<char>(u & 0xFF);
    out += static_cast<char>((u >> 8) & 0xFF);
  };
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    char32_t cp;
    std::size_t n;
    if (c < 0x80) { cp = c; n = 1; }
    else if (c < 0xE0) { cp = c & 0x1F; n = 2; }
    else if (c < 0xF0) { cp = c & 0x0F; n = 3; }
    else { cp = c & 0x07; n = 4; }
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    i += n;
    if (cp >= 0x10000) {
      put(0xD800 + ((cp - 0x10000) >> 10));
      put(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      put(cp);
    }
  }
  return out;
}

std::string first_error(std::string_view bytes) {
  try {
    load_policy_text(bytes, "policy.toml", test_services());
  } catch (const PolicyError& e) {
    return e.diagnostics().at(0).to_string();
  }
  return "(loaded)";
}

} // namespace

TEST_CASE("UTF-8 with CRLF, with and without BOM", "[policy][encoding]") {
  const Policy plain = load(policy_text);
  const Policy bom = load("\xEF\xBB\xBF" + policy_text);
  CHECK(plain.reservations.at(0).reason == "RADIUS \xF0\x9F\x94\x92");
  CHECK(bom.reservations == plain.reservations);
  CHECK(bom.text == plain.text);  // BOM removed
  CHECK(plain.reservations.at(0).source == "policy.toml:2");
}

TEST_CASE("UTF-16LE with BOM (Notepad's \"Unicode\") is converted", "[policy][encoding]") {
  const Policy p = load(utf16le(policy_text, true));
  CHECK(p.text == policy_text);
  CHECK(p.reservations.at(0).reason == "RADIUS \xF0\x9F\x94\x92");  // surrogate pair survived
  CHECK(p.reservations.at(0).source == "policy.toml:2");
}

TEST_CASE("other encodings are rejected with a clear message", "[policy][encoding][messages]") {
  const std::string resave = "; open it in Notepad and use 'Save As' with encoding UTF-8";
  CHECK(first_error(utf16le(policy_text, false)) ==
        "policy.toml:1:2: file contains NUL bytes: it looks like UTF-16 without a byte order mark, which cannot be told apart from binary data" + resave);
  std::string be = utf16le(policy_text, false);
  for (std::size_t i = 0; i + 1 < be.size(); i += 2) std::swap(be[i], be[i + 1]);
  CHECK(first_error("\xFE\xFF" + be) == "policy.toml: file is encoded as UTF-16 big-endian (\"Unicode big endian\"), which PortGuard does not read" + resave);
  CHECK(first_error(std::string("\xFF\xFE\x00\x00", 4) + "x") == "policy.toml: file is encoded as UTF-32, which PortGuard does not read" + resave);
  // "ANSI" (Windows-1252): the e-acute of "café" on line 2.
  CHECK(first_error("[guard]\n# caf\xE9\nmode = \"merge\"\n") ==
        "policy.toml:2:6: file is not valid UTF-8 (byte 0xE9); it was probably saved as \"ANSI\" (Windows-1252 or another code page)" + resave);
  CHECK_THAT(first_error("\xFF\xFE" + std::string("a")), Contains("odd number of bytes"));
  CHECK_THAT(first_error(std::string("\xFF\xFE\x00\xDC", 4)), Contains("lone low surrogate"));
}

TEST_CASE("files with these encodings load from disk too", "[policy][encoding]") {
  const auto dir = temp_dir("encodings");
  write_all(dir / "policy.toml", utf16le(policy_text, true));
  CHECK(load_policy(dir / "policy.toml", data_dir() / "services").reservations.size() == 1);
  std::filesystem::remove_all(dir);
}

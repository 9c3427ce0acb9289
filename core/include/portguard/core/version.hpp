#pragma once
#include <string_view>

namespace portguard {
/// "0.1.0": the project version CMake was configured with (also the MSI's ProductVersion).
std::string_view version() noexcept;
} // namespace portguard

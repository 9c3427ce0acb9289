// Poison header: core/ and config/ see this instead of the system's (cmake/PortGuardLayers.cmake).
#error "core/ and config/ are portable C++20: no Windows headers here (docs/architecture.md); Win32 code goes in service/adapters/"

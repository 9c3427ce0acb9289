// Proves the poison headers work: layers.core_rejects_windows_h builds this file with core's
// include directories and expects the #error of cmake/portable-only/windows.h.
#include <windows.h>

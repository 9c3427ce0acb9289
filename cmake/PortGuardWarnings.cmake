# portguard_set_warnings(<target>): strict warnings for PortGuard's own code only.
# Third-party headers come in through SYSTEM include directories, so they do not trip -Werror.
function(portguard_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Werror>
    $<$<CXX_COMPILER_ID:MSVC>:/W4 /WX /permissive- /utf-8>
    # GCC 12 at -O2/-O3 reports a false -Wrestrict inside libstdc++ for `"literal" + std::string`
    # (GCC bug 105651, fixed in GCC 13); it fires in headers we do not own.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)
  if(WIN32)
    # Windows Server 2003 (SP2, x64) APIs only: the headers then hide what 2003 lacks, so a newer
    # API is a compile error, not an exe that 2003 refuses to load. Newer APIs are reached through
    # GetProcAddress or delay-loading; tests/scenarios/imports.sh checks the import table.
    # Never pull in the ANSI variants by accident.
    target_compile_definitions(${target} PRIVATE UNICODE _UNICODE WIN32_LEAN_AND_MEAN NOMINMAX _WIN32_WINNT=0x0502 WINVER=0x0502)
  endif()
endfunction()

# Delay-loaded DLLs: imported like any other, loaded on the first call. ole32 and oleaut32 (and
# user32, gdi32... which they pull in) cost about 10 ms of every portguard.exe start under Wine,
# while only the WMI query (Windows 8 and later, once a minute at most) needs them.
#
#   portguard_delay_load(TARGET dll...)   dll: a base name with cmake/delayload/<dll>.def
#
# MinGW: dlltool builds a delay-import library from the .def (the helper, __delayLoadHelper2, is in
# libmingwex). MSVC: the linker's /DELAYLOAD with delayimp.lib.
function(portguard_delay_load target)
  foreach(dll IN LISTS ARGN)
    if(MSVC)
      # PUBLIC: on a static library the options reach the executable that links it.
      target_link_libraries(${target} PUBLIC ${dll} delayimp)
      target_link_options(${target} PUBLIC "/DELAYLOAD:${dll}.dll")
    elseif(MINGW)
      find_program(PORTGUARD_DLLTOOL NAMES ${CMAKE_C_COMPILER_TARGET}-dlltool x86_64-w64-mingw32-dlltool dlltool REQUIRED)
      set(def "${PROJECT_SOURCE_DIR}/cmake/delayload/${dll}.def")
      set(lib "${CMAKE_CURRENT_BINARY_DIR}/delayload/lib${dll}_delay.a")
      add_custom_command(OUTPUT "${lib}"
        COMMAND "${CMAKE_COMMAND}" -E make_directory "${CMAKE_CURRENT_BINARY_DIR}/delayload"
        COMMAND "${PORTGUARD_DLLTOOL}" --input-def "${def}" --dllname ${dll}.dll --output-delaylib "${lib}"
        DEPENDS "${def}"
        COMMENT "Delay-import library for ${dll}.dll"
        VERBATIM)
      add_custom_target(${target}_${dll}_delay DEPENDS "${lib}")
      add_dependencies(${target} ${target}_${dll}_delay)
      target_link_libraries(${target} PUBLIC "${lib}")
    else()
      target_link_libraries(${target} PUBLIC ${dll})
    endif()
  endforeach()
endfunction()

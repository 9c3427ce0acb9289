# The Event Log interface is generated from one source of truth, service/events/events.toml, by
# scripts/gen_events.py:
#   portguard_events_header(<target>)       portguard/core/event_ids.hpp on <target>'s public include path
#   portguard_events_message_table(<exe>)   the .mc compiled by windmc -U, linked into <exe> via windres
# docs/events.md is generated from the same file and checked by the test events.docs_in_sync.
# Cache variables, not plain ones: the functions are called from several directories.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(PORTGUARD_PYTHON "${Python3_EXECUTABLE}" CACHE INTERNAL "")
set(PORTGUARD_EVENTS_TOML "${PROJECT_SOURCE_DIR}/service/events/events.toml" CACHE INTERNAL "")
set(PORTGUARD_EVENTS_GEN "${PROJECT_SOURCE_DIR}/scripts/gen_events.py" CACHE INTERNAL "")
set(PORTGUARD_EVENTS_DIR "${PROJECT_BINARY_DIR}/generated/events" CACHE INTERNAL "")
set(PORTGUARD_EVENTS_INCLUDE "${PROJECT_BINARY_DIR}/generated/include" CACHE INTERNAL "")

function(portguard_events_header target)
  set(header "${PORTGUARD_EVENTS_INCLUDE}/portguard/core/event_ids.hpp")
  add_custom_command(
    OUTPUT "${header}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${PORTGUARD_EVENTS_INCLUDE}/portguard/core"
    COMMAND "${PORTGUARD_PYTHON}" "${PORTGUARD_EVENTS_GEN}" --events "${PORTGUARD_EVENTS_TOML}" --header "${header}"
    DEPENDS "${PORTGUARD_EVENTS_TOML}" "${PORTGUARD_EVENTS_GEN}"
    COMMENT "Generating event_ids.hpp from events.toml"
    VERBATIM)
  add_custom_target(portguard_events_header DEPENDS "${header}")
  add_dependencies(${target} portguard_events_header)
  target_sources(${target} PRIVATE "${header}")
  target_include_directories(${target} PUBLIC "${PORTGUARD_EVENTS_INCLUDE}")
endfunction()

function(portguard_events_message_table exe)
  set(mc "${PORTGUARD_EVENTS_DIR}/portguard_events.mc")
  set(res "${PORTGUARD_EVENTS_DIR}/portguard_events_res.o")
  if(NOT CMAKE_MC_COMPILER)
    set(CMAKE_MC_COMPILER x86_64-w64-mingw32-windmc)
  endif()
  if(NOT CMAKE_RC_COMPILER)
    set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
  endif()
  file(MAKE_DIRECTORY "${PORTGUARD_EVENTS_DIR}")
  # windmc writes portguard_events.rc + MSG00409.bin next to each other; windres must run in that
  # directory to find the .bin the .rc names.
  add_custom_command(
    OUTPUT "${res}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${PORTGUARD_EVENTS_DIR}"
    COMMAND "${PORTGUARD_PYTHON}" "${PORTGUARD_EVENTS_GEN}" --events "${PORTGUARD_EVENTS_TOML}" --mc "${mc}"
    COMMAND "${CMAKE_MC_COMPILER}" -U -h "${PORTGUARD_EVENTS_DIR}" -r "${PORTGUARD_EVENTS_DIR}" "${mc}"
    COMMAND "${CMAKE_RC_COMPILER}" -O coff -i portguard_events.rc -o "${res}"
    WORKING_DIRECTORY "${PORTGUARD_EVENTS_DIR}"
    DEPENDS "${PORTGUARD_EVENTS_TOML}" "${PORTGUARD_EVENTS_GEN}"
    COMMENT "Compiling the Event Log message table (windmc -U, windres)"
    VERBATIM)
  set_source_files_properties("${res}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  target_sources(${exe} PRIVATE "${res}")
endfunction()

# shellcheck shell=bash
# Sourced by scripts/test and scripts/demo before they configure a build tree.
#
# check_build_tree SCRIPT DIR: fails with a clear message when DIR holds a CMake cache made for
# other sources (the repository was copied or moved, or the tree came from another clone). CMake
# itself only says "The current CMakeCache.txt directory ... is different than the directory ...
# where CMakeCache.txt was created", which does not say what to do.
check_build_tree() {
  local script=$1 dir=$2 cache home here
  cache=$dir/CMakeCache.txt
  [[ -f $cache ]] || return 0
  home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
  here=$(pwd -P)
  [[ -z $home || $(cd "$home" 2>/dev/null && pwd -P) == "$here" ]] && return 0
  {
    echo "$script: $dir is a stale build tree: it was configured for the sources in $home, not $here."
    echo "$script: delete it and run again:  rm -rf '$dir'"
  } >&2
  return 1
}

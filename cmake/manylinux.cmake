# manylinux_2_28 from any builder (included by CMakeLists.txt for both bindings).
#
# torchrig_manylinux_2_28(<target>): on a Linux builder whose glibc is newer than 2.28 (this
# machine: Debian 12, glibc 2.36), keep <target> free of symbol versions newer than what
# auditwheel's manylinux_2_28 policy allows, so that the wheel is tagged like torch's own:
#   - compile csrc/compat/glibc_2_28.cpp into it: a hidden __libc_single_threaded (gcc's
#     headers, GLIBC_2.32), __wrap_dlsym, dlsym by its first version (torch's stable headers,
#     GLIBC_2.34), and __wrap_exp/exp2/log/log2/pow, libm's first versions (GLIBC_2.29);
#   - link with --wrap for each and libdl.so.2 as needed (where glibc < 2.34 defines dlsym).
# A builder with glibc <= 2.28 (the quay.io/pypa/manylinux_2_28 image of the release workflow)
# needs none of it and gets none. TORCHRIG_MANYLINUX_COMPAT=OFF turns it off; `torchrig-release
# check` names any too-new symbol that remains (docs/publishing.md).

option(TORCHRIG_MANYLINUX_COMPAT
       "On a glibc > 2.28 builder, bind glibc symbols to versions manylinux_2_28 allows" ON)

include(CheckCXXSourceCompiles)
check_cxx_source_compiles([=[
#include <features.h>
#if !defined(__GLIBC__) || (__GLIBC__ == 2 && __GLIBC_MINOR__ <= 28)
#error "glibc <= 2.28 (or no glibc)"
#endif
int main() { return 0; }
]=] TORCHRIG_GLIBC_ABOVE_2_28)

set(_torchrig_compat_source "${CMAKE_CURRENT_LIST_DIR}/../csrc/compat/glibc_2_28.cpp")

function(torchrig_manylinux_2_28 target)
  if(NOT TORCHRIG_MANYLINUX_COMPAT OR NOT TORCHRIG_GLIBC_ABOVE_2_28)
    return()
  endif()
  target_sources(${target} PRIVATE "${_torchrig_compat_source}")
  # The classic module links with -flto (pybind11); in an LTO object the .symver of
  # torchrig_dlsym_first is lost and the library is left needing it, unversioned and undefined
  # (seen in the CUDA build, where dlsym is referenced): this one file is compiled without LTO.
  set_property(SOURCE "${_torchrig_compat_source}" APPEND PROPERTY COMPILE_OPTIONS -fno-lto)
  target_link_options(${target} PRIVATE "LINKER:--wrap=dlsym"
                      "LINKER:--wrap=exp,--wrap=exp2,--wrap=log,--wrap=log2,--wrap=pow"
                      "LINKER:--push-state,--no-as-needed,-l:libdl.so.2,--pop-state")
  message(STATUS "torchrig: glibc > 2.28 builder: ${target} binds glibc symbols to "
                 "manylinux_2_28 versions (cmake/manylinux.cmake)")
endfunction()

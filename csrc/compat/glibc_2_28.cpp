// Keeps a library compiled on a glibc newer than 2.28 loadable on glibc 2.28 (the manylinux_2_28
// tag of torch's own wheels). cmake/manylinux.cmake compiles this file only on such a builder;
// docs/publishing.md ("manylinux_2_28 from a newer builder") tells why each part is safe.
// Nothing here is called by torchrig's own code: each part stands in for a glibc symbol that
// headers (gcc's, torch's) reference behind our back.
#include <features.h>

#if !defined(__GLIBC__)
#error "csrc/compat/glibc_2_28.cpp is for glibc builds only (cmake/manylinux.cmake)"
#endif

// 1. __libc_single_threaded (GLIBC_2.32). gcc 12's <ext/atomicity.h> reads it, when
//    <sys/single_threaded.h> exists, to skip the atomic instruction of a reference count
//    (std::shared_ptr, std::locale, ...) while the process has one thread. This definition is
//    hidden, so every such read in this library binds here at link time and no reference to
//    glibc's variable remains. It is never set: 0 means "other threads may exist", the answer
//    that is right in every process; the cost is an atomic add where a plain one would do.
//    (A linkage block, not `extern "C" char x = 0;`: gcc warns on an initialized `extern`.)
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}

// 2. dlsym (GLIBC_2.34 default version, since libdl moved into libc). torch's stable headers
//    (torch/csrc/stable/macros.h, torch >= 2.14) call dlsym(RTLD_DEFAULT, ...). The link wraps
//    dlsym (-Wl,--wrap=dlsym) into __wrap_dlsym below, which calls dlsym by its first version,
//    the one glibc 2.28's libdl.so.2 defines and every later libc.so.6 keeps; the library lists
//    libdl.so.2 as needed, so that version is found on glibc < 2.34 too.
#if defined(__x86_64__)
#define TORCHRIG_GLIBC_FIRST "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define TORCHRIG_GLIBC_FIRST "GLIBC_2.17"
#else
#error "csrc/compat/glibc_2_28.cpp: the first glibc symbol version of this architecture is unknown"
#endif

extern "C" void* torchrig_dlsym_first(void* handle, const char* name);
__asm__(".symver torchrig_dlsym_first, dlsym@" TORCHRIG_GLIBC_FIRST);

extern "C" __attribute__((visibility("hidden"))) void* __wrap_dlsym(void* handle,
                                                                     const char* name) {
  return torchrig_dlsym_first(handle, name);
}

// 3. exp, exp2, log, log2, pow (GLIBC_2.29 default versions: glibc 2.29 dropped their SVID
//    error handling, _LIB_VERSION/matherr, and gave them new versions). The joint-parameter
//    kernels' exp2 (log2 scale) and any std::exp/std::log/std::pow on double reach them. Each is
//    wrapped (-Wl,--wrap=<name>) into a call of its first version, which every libm.so.6 from
//    glibc 2.2.5 (x86_64) / 2.17 (aarch64) on keeps: the same results for every finite input;
//    only the errno/matherr reporting of a domain or range error differs, which torchrig never reads.
#define TORCHRIG_FIRST_VERSION_OF(name, params, args)                                      \
  extern "C" double torchrig_##name##_first params;                                       \
  __asm__(".symver torchrig_" #name "_first, " #name "@" TORCHRIG_GLIBC_FIRST);           \
  extern "C" __attribute__((visibility("hidden"))) double __wrap_##name params {          \
    return torchrig_##name##_first args;                                                  \
  }
TORCHRIG_FIRST_VERSION_OF(exp, (double x), (x))
TORCHRIG_FIRST_VERSION_OF(exp2, (double x), (x))
TORCHRIG_FIRST_VERSION_OF(log, (double x), (x))
TORCHRIG_FIRST_VERSION_OF(log2, (double x), (x))
TORCHRIG_FIRST_VERSION_OF(pow, (double x, double y), (x, y))
#undef TORCHRIG_FIRST_VERSION_OF

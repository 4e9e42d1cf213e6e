"""torchrig_release/abi/stable.py: the stable-ABI symbol rule, on synthetic symbol lists."""
from __future__ import annotations


from torchrig_release.abi.elf import Symbol
from torchrig_release.abi.stable import check_stable_symbols

SHIM = [Symbol("aoti_torch_get_sizes", "aoti_torch_get_sizes"),
        Symbol("torch_parallel_for", "torch_parallel_for")]
LIBC = [Symbol("memcpy", "memcpy"),
        Symbol("_ZNSt7__cxx1119basic_ostringstreamIcSt11char_traitsIcESaIcEEC1Ev",
               "std::__cxx11::basic_ostringstream<char, std::char_traits<char>, "
               "std::allocator<char> >::basic_ostringstream()")]
SYM_NE = Symbol("_ZNK3c106SymInt6sym_neERKS0_", "c10::SymInt::sym_ne(c10::SymInt const&) const")


def test_only_the_shim_defined_everywhere_passes():
    every = {"2.13.0": lambda n: True, "2.15.0": lambda n: True}
    v = check_stable_symbols(SHIM + LIBC, every)
    assert v.ok and v.shim == ["aoti_torch_get_sizes", "torch_parallel_for"]
    assert v.missing == {"2.13.0": [], "2.15.0": []}


def test_a_mangled_torch_symbol_fails_even_where_defined():
    v = check_stable_symbols(SHIM + [SYM_NE], {"2.13.0": lambda n: True})
    assert not v.ok
    assert v.mangled == [SYM_NE.demangled]
    assert "c10::SymInt::sym_ne" in v.problems[0] and "one torch minor" in v.problems[0]


def test_a_shim_symbol_missing_in_one_torch_names_that_torch():
    old = {"aoti_torch_get_sizes"}
    v = check_stable_symbols(SHIM, {"2.9.1": old.__contains__, "2.13.0": lambda n: True})
    assert v.missing == {"2.9.1": ["torch_parallel_for"], "2.13.0": []}
    assert v.problems == ["torch 2.9.1 does not define torch_parallel_for (stable C shim): "
                          "the library cannot load there"]


def test_std_symbols_mentioning_no_torch_namespace_are_not_torch_symbols():
    v = check_stable_symbols(LIBC, {"2.13.0": lambda n: False})
    assert v.ok and not v.shim and not v.mangled


def test_weak_tls_init_references_are_optional_at_load():
    # csrc/classic/autograd.cpp touches c10's thread_local dispatch key set: g++ emits a weak
    # reference to its TLS init function, which torch need not define
    from torchrig_release.abi.elf import optional_at_load

    assert optional_at_load(Symbol("_ZTHN3c104impl26raw_local_dispatch_key_setE", "TLS init", weak=True))
    assert not optional_at_load(Symbol("_ZTHN3c104impl26raw_local_dispatch_key_setE", "TLS init"))
    assert not optional_at_load(Symbol("_ZN3c106SymInt6sym_neERKS0_", "c10::SymInt::sym_ne", weak=True))

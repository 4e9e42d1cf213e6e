"""abi-check internals: ELF symbols, artifacts, torch installations, declared torch
ranges, and the check that ties them together (the verb: main_abi_check.py).

- :mod:`.elf`      undefined/defined dynamic symbols (pyelftools), demangling (cxxfilt)
- :mod:`.artifact` a wheel, a .conda/.tar.bz2 or an installed torchrig, unpacked
- :mod:`.torch_install` a torch installation: its facts and library directory
- :mod:`.declared` the torch range the artifact declares (Requires-Dist / index.json)
- :mod:`.check`    per-torch verdicts, the declared-range verdict, the report
"""

"""The programs that show and measure torchrig: ``python -m torchrig demo | bench``.

One subpackage for what runs the ops rather than provides them, so the library
(:mod:`torchrig.ops`, :mod:`torchrig.rig`, :mod:`torchrig.procedural`, ...)
never imports it and it can grow without touching the library. Named ``bench``
because measuring is what all of it does (the demo, too, times torchrig
against the reference), and because ``python -m torchrig.bench`` was already
the benchmark's module name; it still is (:mod:`torchrig.bench.__main__`).

Modules, each imported by the ones above it only (no circle):

* :mod:`~torchrig.bench.command`: the ``bench`` verb, its flags and dispatch.
* :mod:`~torchrig.bench.demo`: the ``demo`` verb (and :func:`~torchrig.bench.demo.walk_cycle`).
* :mod:`~torchrig.bench.cpu`: the CPU tables (torchrig vs the reference, bandwidth).
* :mod:`~torchrig.bench.gpu`: the GPU benchmark (``bench --device cuda``).
* :mod:`~torchrig.bench.abi`: stable-ABI vs classic build (``bench --compare-abi``).
* :mod:`~torchrig.bench.vs_pymomentum`: the side-by-side table with pymomentum.
* :mod:`~torchrig.bench.timing`: median timing, copy bandwidth, skinning's bytes.
* :mod:`~torchrig.bench.args`: the argparse types both verbs share.

The SMPL-X joint tree the benchmarks use is :data:`torchrig.procedural.SMPLX_PARENTS`.
"""

"""Conda side of the release: rattler-build helpers (util), rendering the matrix (render),
building one variant (build)."""

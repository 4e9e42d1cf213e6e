"""Generated files: environments/*.yml (environments) and docs/compatibility.md's tables
(compat_docs), both from pixi.toml and recipe/variants.yaml. The verb: main_gen.py."""

"""Helpers of tools/upload.py: packages (find, read), abi (the ABI gate), targets
(credentials, redaction, rattler-build uploads, local file channel)."""

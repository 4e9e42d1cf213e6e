"""upload internals: packages (find, read), abi (the in-process ABI gate), targets
(credentials, redaction, rattler-build uploads, local file channel). The verb: main_upload.py."""

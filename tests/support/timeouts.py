"""How long a test lets one command run: the one number every subprocess a test (or a support
module) starts is given, so that a hung command fails its test by name (support.test_log
records which) instead of stalling CI until its 90-minute kill (issue 29). Generous: the
longest single command here, a cold CUDA conda build, takes about 6 minutes.
tests/packaging/test_subprocess_timeouts.py checks that every call passes one."""
COMMAND_S = 1800

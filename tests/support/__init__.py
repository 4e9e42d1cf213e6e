"""Test infrastructure (not tests): the stand-in conda channel, conda fixtures, a quetz server,
a stand-in ABI check for the upload tests. On sys.path through pytest's `pythonpath = ["tests"]`."""

"""What DAG files use. Import names from ``flowsched`` (or the submodules), not from here.

This package's ``__init__`` stays empty on purpose: re-exporting ``dag`` here would shadow
the ``flowsched.authoring.dag`` submodule.
"""

"""The scheduler: create runs, decide which task instances are ready, dispatch, finish runs.

``loop.py`` is the daemon; every other module does one step of a pass and works from the
serialized DAG in the database, never from user code.
"""

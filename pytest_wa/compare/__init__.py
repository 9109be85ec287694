"""Two runs compared metric by metric, with regression verdicts (docs/statistics.md).

``python -m pytest_wa compare A B`` (``cli``); from Python, ``runs.load`` two
runs and ``table.compare_runs`` them. The statistics are ``verdicts``; scipy
is needed only when comparing, so nothing here imports it at module level.
"""

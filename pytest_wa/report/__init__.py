"""The HTML report of a finished run: one self-contained file (docs/report.md).

``writer.write_report`` reads the run directory (``gather``: the run and its
jobs; ``metrics``: each metric's iterations and statistics; ``instruments``:
residency, energy and temperature data; ``baseline``: a baseline's values and
``compare``'s verdicts) and writes the page (``page`` with ``assets/``).
``cli`` is ``python -m pytest_wa report``; ``--wa-html`` calls the writer at
the end of a session (session/html_report.py). Nothing here is imported by a
run that does not ask for a report.
"""

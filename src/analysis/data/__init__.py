"""The data layer: trading calendar, prices (cache, CSV import, Yahoo), event registry, cited facts.

Nothing here imports from the event-study engine, the studies or the reports.
"""

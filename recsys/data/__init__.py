"""Data in: CSV ingest, the readiness report, ``Dataset``, item/user features, splits, the demo store."""

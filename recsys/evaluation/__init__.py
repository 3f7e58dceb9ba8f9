"""How good is a list: metrics, user segments, tuning on validation, offline A/B tests."""

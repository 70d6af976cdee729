"""Verified training data: generated question families, the GSM8K importer, verification,
splits, checking and statistics. `wm data` (worldmodel/cli/data.py) is its command line."""

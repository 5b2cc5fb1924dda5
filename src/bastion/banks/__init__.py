"""Banks: curated lists of known content (positive) and known false positives (negative)."""

"""Matching: signals against banks, with explanations, and the scan pipeline that records it."""

"""diff-insight: localized Diff Insight Reports for documentation repositories."""

__version__ = "0.1.0"

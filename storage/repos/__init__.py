"""Repositories: one per aggregate, each the only code that writes its tables."""

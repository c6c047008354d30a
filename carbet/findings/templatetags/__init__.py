"""Template tags of the findings pages."""

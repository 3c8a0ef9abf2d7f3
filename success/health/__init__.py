"""Health scores: a versioned, explainable model of weighted measures."""

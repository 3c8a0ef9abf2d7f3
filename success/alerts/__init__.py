"""Alert rules on data that open a task for the owner, and expansion signals."""

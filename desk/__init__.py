"""Service desks and their tickets."""

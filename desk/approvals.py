"""Approvals of a ticket asked of named client users (issue 15): any one, all, or N of M."""

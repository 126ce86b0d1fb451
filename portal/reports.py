"""The client's reports in the portal (issue 15, *reports* permission)."""

"""The client's dashboard in the portal (issue 15): its tickets of the last 30 days."""

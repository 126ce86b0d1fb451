"""A client user's tickets in the portal (issue 15): which they see, which desks they
may open one on."""

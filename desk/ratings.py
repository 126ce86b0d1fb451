"""The requester's rating of a finished ticket (issue 15): 1-5 with a comment, once."""

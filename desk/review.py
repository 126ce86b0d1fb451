"""A resolved ticket's review by the client (issue 15): waiting for acceptance,
accepted (by a user, or by itself after the desk's timeout), or reopened with a reason."""

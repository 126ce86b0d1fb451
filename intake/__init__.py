"""Inbound e-mail: replies and new tickets arriving by mail (issue 14)."""

"""Outbound webhooks: the loyalty system is told of every whole-channel opt-out (see `subscribers`)."""

"""Flux beside the lab's own agent: its objects, its controllers and its webhook receiver."""

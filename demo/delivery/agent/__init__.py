"""The pull agent: its reconcile loop, how it watches git, and how it runs in a cluster."""

"""Talking to a cluster's API, and the least-privilege accounts the lab creates in it."""

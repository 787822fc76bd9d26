"""`python -m demo`: the lab's one command line."""

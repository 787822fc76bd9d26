"""The experiments behind part 4's claims: each one a command that measures a claim on a lab
of its own and writes one JSON result for the site (`python -m demo experiment NAME`)."""

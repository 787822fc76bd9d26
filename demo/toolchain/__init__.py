"""What the lab builds before any cluster: Kubernetes tools from Go modules and images."""

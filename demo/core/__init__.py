"""The lab's ground floor: errors, paths, names, running commands, processes and waits."""

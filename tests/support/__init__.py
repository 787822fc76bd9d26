"""What the tests share, as a package of its own: paths, parts a test needs, servers on
loopback, the browser, the kind lab. Tests import from here, never from conftest."""

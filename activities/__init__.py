"""Activities: the only place the service does I/O."""

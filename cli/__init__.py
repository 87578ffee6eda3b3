"""The supervisors' command line (`cases`, `case`, `forecast`, or `cse <command>`)."""

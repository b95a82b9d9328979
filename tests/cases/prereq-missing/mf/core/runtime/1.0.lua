setenv("RUNTIME", "1")

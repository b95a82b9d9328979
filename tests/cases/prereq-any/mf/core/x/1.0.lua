setenv("X", "1")

setenv("B", "1")

setenv("GOOD", "1")

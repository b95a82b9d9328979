setenv("BASE", "1")

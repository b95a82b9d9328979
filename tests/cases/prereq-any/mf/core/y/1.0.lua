setenv("Y", "1")

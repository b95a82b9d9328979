setenv("PRESENT", "1")

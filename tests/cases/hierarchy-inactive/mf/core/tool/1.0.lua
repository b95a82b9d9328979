setenv("TOOL", "1")

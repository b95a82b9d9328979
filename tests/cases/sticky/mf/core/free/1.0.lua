setenv("FREE", "1")

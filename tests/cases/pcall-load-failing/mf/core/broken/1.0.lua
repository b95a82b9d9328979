setenv("BROKEN_SET", "1")
LmodError("broken on purpose")

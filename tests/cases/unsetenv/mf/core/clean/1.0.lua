unsetenv("CLEAN_ME")
setenv("CLEAN_MARK", "1")

unload("old")
setenv("CLEAN", "1")

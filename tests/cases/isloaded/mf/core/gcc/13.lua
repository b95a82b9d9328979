setenv("GCC", "13")

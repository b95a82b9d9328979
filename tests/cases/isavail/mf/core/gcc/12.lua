setenv("GCC", "12")

always_load("base")
setenv("WRAP", "1")

prereq_any("x", "y")
setenv("APP", "1")

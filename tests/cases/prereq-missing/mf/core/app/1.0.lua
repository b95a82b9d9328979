prereq("runtime")
setenv("APP", "1")

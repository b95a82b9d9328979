try_load("nosuchmodule")
try_load("present")
setenv("OPT", "1")

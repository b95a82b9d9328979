conflict("b")
setenv("A", "1")

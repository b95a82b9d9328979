setenv("BAD", "1")
LmodError("bad refuses to load")

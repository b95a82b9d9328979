setenv("FOO_FROM", "a")

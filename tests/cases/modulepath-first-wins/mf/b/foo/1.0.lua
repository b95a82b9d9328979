setenv("FOO_FROM", "b")

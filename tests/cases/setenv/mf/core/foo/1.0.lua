setenv("FOO_HOME", "/opt/foo/1.0")
setenv("FOO_SPACED", "a value with spaces")
setenv("FOO_EMPTYISH", "x")

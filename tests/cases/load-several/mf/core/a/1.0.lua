setenv("A_V", "1.0")
prepend_path("PATH", "/opt/a/1.0/bin")

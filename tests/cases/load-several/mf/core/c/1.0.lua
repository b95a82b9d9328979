setenv("C_V", "1.0")
prepend_path("PATH", "/opt/c/1.0/bin")

setenv("B_V", "1.0")
prepend_path("PATH", "/opt/b/1.0/bin")
